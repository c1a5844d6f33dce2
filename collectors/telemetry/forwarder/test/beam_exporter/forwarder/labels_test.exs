defmodule BeamExporter.Forwarder.LabelsTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.Labels

  test "module names drop the Elixir. prefix; Erlang modules and strings stay as they are" do
    assert Labels.module_name(MyAppWeb.UserController) == "MyAppWeb.UserController"
    assert Labels.module_name(:cowboy_handler) == "cowboy_handler"
    assert Labels.module_name("MyApp.Worker") == "MyApp.Worker"
    assert Labels.module_name(nil) == "unknown"
    assert Labels.module_name(self()) == "unknown"
  end

  test "names of atoms and binaries; anything else is unknown" do
    assert Labels.name(:select) == "select"
    assert Labels.name("GET") == "GET"
    assert Labels.name(nil) == "unknown"
    assert Labels.name(%{id: 1}) == "unknown"
  end

  test "exception names: the exception module, an Erlang error atom, or other" do
    assert Labels.exception_name(%KeyError{key: :secret}) == "KeyError"
    assert Labels.exception_name(:badarg) == "badarg"
    assert Labels.exception_name({:badmatch, 42}) == "badmatch"
    assert Labels.exception_name("user 42 not found") == "other"
  end

  test "scalars are the wire's metadata types" do
    assert Enum.all?([:a, "b", 1, 1.5, true], &Labels.scalar?/1)
    refute Enum.any?([%{}, [], {1}, self()], &Labels.scalar?/1)
  end
end
