defmodule BeamExporter.Forwarder.CalledServerTest do
  use ExUnit.Case, async: true

  import BeamExporter.Forwarder.CalledServer, only: [of_reason: 1]

  @stack [{M, :f, 1, [file: 'm.ex', line: 1]}]

  defp timeout(module, server), do: {:timeout, {module, :call, [server, :req, 5000]}}

  test "a registered server is named like a supervisor: Elixir aliases without the prefix" do
    assert of_reason(timeout(GenServer, MyApp.SlowServer)) == "MyApp.SlowServer"
    assert of_reason(timeout(:gen_server, :erlang_server)) == "erlang_server"
  end

  test "gen_server, gen_statem and gen call shapes are recognised" do
    assert of_reason(timeout(:gen_server, MyApp.A)) == "MyApp.A"
    assert of_reason(timeout(:gen_statem, MyApp.Machine)) == "MyApp.Machine"

    assert of_reason({:timeout, {:gen, :call, [MyApp.B, :"$gen_call", :req, 5000]}}) ==
             "MyApp.B"
  end

  test "a name on another node is the name" do
    assert of_reason(timeout(GenServer, {MyApp.SlowServer, :app@host})) == "MyApp.SlowServer"
  end

  test "global and via names are bounded: atom global names, the via module" do
    assert of_reason(timeout(GenServer, {:global, MyApp.Leader})) == "MyApp.Leader"
    assert of_reason(timeout(GenServer, {:global, {:user, 42}})) == "global"

    assert of_reason(timeout(GenServer, {:via, Registry, {MyApp.Registry, "user-42"}})) ==
             "via:Registry"

    assert of_reason(timeout(:gen_server, {:via, :global, :x})) == "via:global"
  end

  test "a pid is 'pid', never the pid itself" do
    assert of_reason(timeout(GenServer, self())) == "pid"
  end

  test "odd server terms are 'other'" do
    assert of_reason(timeout(GenServer, "a string")) == "other"
    assert of_reason(timeout(GenServer, {:a, :b, :c})) == "other"
    assert of_reason(timeout(GenServer, nil)) == "other"
  end

  test "a {reason, stacktrace} wrapper is unwrapped" do
    assert of_reason({timeout(GenServer, MyApp.S), @stack}) == "MyApp.S"
  end

  test "reasons other than a call timeout have no server" do
    assert of_reason({:timeout, {Task, :await, [%{}, 5000]}}) == ""
    assert of_reason(:timeout) == ""
    assert of_reason({:noproc, {GenServer, :call, [MyApp.S, :req, 5000]}}) == ""
    assert of_reason({:timeout, {GenServer, :call, []}}) == ""
    assert of_reason(%RuntimeError{message: "boom"}) == ""
    assert of_reason(:killed) == ""
  end
end
