defmodule BeamExporter.Forwarder.LoggerReportTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.LoggerReport

  # Shapes as written by proc_lib, supervisor and the emulator in OTP 25.
  defp crash_report(class, reason) do
    info = [
      initial_call: {M, :init, [:x]},
      pid: self(),
      error_info: {class, reason, []},
      ancestors: []
    ]

    %{level: :error, msg: {:report, %{label: {:proc_lib, :crash}, report: [info, []]}}, meta: %{}}
  end

  defp supervisor_report(context, supervisor, offender) do
    report = [supervisor: supervisor, errorContext: context, reason: :killed, offender: offender]
    %{level: :error, msg: {:report, %{label: {:supervisor, context}, report: report}}, meta: %{}}
  end

  test "a proc_lib crash report becomes a crash with a normalised reason and the called server" do
    assert LoggerReport.classify(
             crash_report(:exit, {:timeout, {GenServer, :call, [MyApp.Slow, :x, 5000]}})
           ) ==
             {:crash, %{reason: "timeout", server: "MyApp.Slow"}}

    assert LoggerReport.classify(
             crash_report(:exit, {:timeout, {GenServer, :call, [self(), :x, 5000]}})
           ) ==
             {:crash, %{reason: "timeout", server: "pid"}}

    assert LoggerReport.classify(crash_report(:error, %RuntimeError{})) ==
             {:crash, %{reason: "error", server: ""}}
  end

  test "a crash report without error_info is an 'other' crash without server" do
    report = [[initial_call: {M, :init, [:x]}, pid: self()], []]

    event = %{
      level: :error,
      msg: {:report, %{label: {:proc_lib, :crash}, report: report}},
      meta: %{}
    }

    assert LoggerReport.classify(event) == {:crash, %{reason: "other", server: ""}}
  end

  test "the emulator's error report for a spawned process becomes a crash" do
    event = %{
      level: :error,
      msg:
        {'Error in process ~p on node ~p with exit value:~n~p~n',
         [self(), node(), {:badarg, [{:erlang, :binary_to_atom, [:x], []}]}]},
      meta: %{error_logger: %{emulator: true, tag: :error}}
    }

    assert LoggerReport.classify(event) == {:crash, %{reason: "badarg", server: ""}}
  end

  test "child_terminated and start_error supervisor reports become restarts named by supervisor and child" do
    assert LoggerReport.classify(
             supervisor_report(:child_terminated, {:local, MyApp.Sup},
               pid: self(),
               id: MyApp.Worker
             )
           ) ==
             {:supervisor_restart, %{supervisor: "MyApp.Sup", child: "MyApp.Worker"}}

    assert LoggerReport.classify(
             supervisor_report(:start_error, {self(), MyApp.Sup}, pid: :undefined, id: :cache)
           ) ==
             {:supervisor_restart, %{supervisor: "MyApp.Sup", child: "cache"}}
  end

  test "a DynamicSupervisor child (id :undefined) is named by the module it starts" do
    offender = [pid: self(), id: :undefined, mfargs: {MyApp.Session, :start_link, [:x]}]

    assert LoggerReport.classify(
             supervisor_report(:child_terminated, {:local, MyApp.Sessions}, offender)
           ) ==
             {:supervisor_restart, %{supervisor: "MyApp.Sessions", child: "MyApp.Session"}}
  end

  test "a pid-only or odd supervisor and child are 'unknown', never a pid" do
    {:supervisor_restart, meta} =
      LoggerReport.classify(
        supervisor_report(:child_terminated, self(), pid: self(), id: {:a, make_ref()})
      )

    assert meta == %{supervisor: "unknown", child: "unknown"}
  end

  test "other reports and plain messages are ignored" do
    assert LoggerReport.classify(supervisor_report(:shutdown, {:local, S}, [])) == :ignore
    assert LoggerReport.classify(%{level: :error, msg: {:string, 'boom'}, meta: %{}}) == :ignore

    assert LoggerReport.classify(%{
             level: :error,
             msg: {:report, %{label: {:gen_server, :terminate}}},
             meta: %{}
           }) == :ignore
  end
end
