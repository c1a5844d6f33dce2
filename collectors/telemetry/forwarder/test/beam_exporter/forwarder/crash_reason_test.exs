defmodule BeamExporter.Forwarder.CrashReasonTest do
  use ExUnit.Case, async: true

  import BeamExporter.Forwarder.CrashReason, only: [normalize: 2]

  @stack [{M, :f, 1, [file: 'm.ex', line: 1]}]

  test "call timeouts of GenServer, gen_server and Task are timeout" do
    assert normalize(:exit, {:timeout, {GenServer, :call, [self(), :x, 50]}}) == "timeout"
    assert normalize(:exit, {:timeout, {:gen_server, :call, [self(), :x, 50]}}) == "timeout"
    assert normalize(:exit, {:timeout, {Task, :await, [%{}, 5000]}}) == "timeout"
  end

  test "noproc and killed, bare or from a call" do
    assert normalize(:exit, :noproc) == "noproc"
    assert normalize(:exit, {:noproc, {GenServer, :call, [:x, :y, 5000]}}) == "noproc"
    assert normalize(:exit, :killed) == "killed"
  end

  test "Erlang errors and their Elixir exceptions map to the same value" do
    assert normalize(:error, :badarg) == "badarg"
    assert normalize(:error, %ArgumentError{message: "x"}) == "badarg"
    assert normalize(:error, {:badmatch, 3}) == "badmatch"
    assert normalize(:error, %MatchError{term: 3}) == "badmatch"
    assert normalize(:error, :function_clause) == "function_clause"
    assert normalize(:error, %FunctionClauseError{}) == "function_clause"
    assert normalize(:error, :undef) == "undef"
    assert normalize(:error, %UndefinedFunctionError{}) == "undef"
  end

  test "a {reason, stacktrace} wrapper (gen_server terminate reasons) is unwrapped" do
    assert normalize(:exit, {%MatchError{term: 1}, @stack}) == "badmatch"
    assert normalize(:exit, {:badarg, @stack}) == "badarg"
  end

  test "anything else falls back to the class" do
    assert normalize(:exit, {:shutdown, :whatever}) == "exit"
    assert normalize(:error, %RuntimeError{message: "boom"}) == "error"
    assert normalize(:throw, :ball) == "other"
    assert normalize(:unknown, make_ref()) == "other"
  end
end
