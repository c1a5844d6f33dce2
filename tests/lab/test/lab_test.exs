defmodule LabTest do
  # One running lab app shared by the tests, faults switched one at a time.
  use ExUnit.Case, async: false

  import Lab.TestHelpers

  # Crash reports and restarts are the point here; keep them out of the test output.
  @moduletag :capture_log

  # The events a preset reads, as the lab emits them, compared with the recording of a real Phoenix
  # 1.7 app (see "the lab's events have the shapes..." below): captured from the start of the app.
  @shape_events [
    [:phoenix, :endpoint, :stop],
    [:phoenix, :router_dispatch, :stop],
    [:phoenix, :router_dispatch, :exception],
    [:phoenix, :socket_connected],
    [:phoenix, :channel_joined],
    [:phoenix, :channel_handled_in],
    [:phoenix, :live_view, :mount, :stop],
    [:phoenix, :live_view, :handle_event, :stop],
    [:lab, :repo, :query]
  ]
  @recording Path.expand("../../../../shared/fixtures/phoenix-1.7/events.etf", __DIR__)

  setup_all do
    {:ok, _} = Lab.TestSink.start_link()
    {:ok, _} = Application.ensure_all_started(:telemetry)
    :ets.new(:lab_shape_capture, [:named_table, :public])
    :ok = :telemetry.attach_many("lab-shape-capture", @shape_events, &__MODULE__.capture/4, nil)
    on_exit(fn -> :telemetry.detach("lab-shape-capture") end)
    http_port = free_tcp_port()

    env = %{
      "LAB_DATABASE_URL" => "ecto://lab@localhost/lab",
      "LAB_HTTP_PORT" => "#{http_port}",
      "LAB_TELEMETRY_PORT" => "#{Lab.TestSink.port()}",
      "LAB_WS_CLIENTS" => "10",
      "LAB_TRAFFIC_RPS" => "20"
    }

    System.put_env(env)
    {:ok, _} = Application.ensure_all_started(:beam_lab)
    on_exit(fn -> Application.stop(:beam_lab) end)
    %{http_port: http_port}
  end

  setup do
    on_exit(fn -> for name <- Lab.Faults.names(), do: Lab.Faults.set(name, false) end)
    Lab.TestSink.clear()
    :ok
  end

  @doc false
  def capture(event, measurements, metadata, nil),
    do: :ets.insert_new(:lab_shape_capture, {event, measurements, metadata})

  test "HTTP requests emit Phoenix/Ecto-shaped events with route templates", %{http_port: port} do
    assert {:ok, 200} = Lab.Traffic.get(port, "/users/7")
    assert {:ok, 404} = Lab.Traffic.get(port, "/no/such/page")

    assert wait_for_event(
             [:phoenix, :router_dispatch, :stop],
             &match?({_, _, %{route: "/users/:id", status: 200, method: "GET"}, _}, &1)
           )

    # An unknown path: a 404 from the endpoint, and no router event (Phoenix's NoRouteError).
    assert wait_for_event(
             [:phoenix, :endpoint, :stop],
             &match?({_, _, %{method: "GET", status: 404}, _}, &1)
           )

    refute Enum.find(
             events_named([:phoenix, :router_dispatch, :stop]),
             &match?({_, _, %{route: "unknown"}, _}, &1)
           )

    assert [{_, %{query_time: q}, %{repo: "Lab.Repo", source: "users", command: "select"}, _} | _] =
             events_named([:lab, :repo, :query])

    assert is_float(q)
  end

  test "controller_raise: user lookups raise; the router reports the exception, the endpoint a 500",
       %{http_port: port} do
    Lab.Faults.set(:controller_raise, true)
    assert {:ok, 500} = Lab.Traffic.get(port, "/users/7")
    Lab.Faults.set(:controller_raise, false)
    assert {:ok, 200} = Lab.Traffic.get(port, "/users/7")

    assert wait_for_event(
             [:phoenix, :router_dispatch, :exception],
             &match?(
               {_, %{duration: _, count: 1},
                %{route: "/users/:id", status: 500, kind: "error", reason: "RuntimeError"}, _},
               &1
             )
           )

    assert wait_for_event(
             [:phoenix, :endpoint, :stop],
             &match?({_, _, %{status: 500}, _}, &1)
           )
  end

  # The lab stands in for Phoenix: every event a preset reads must look like the real one. For each
  # such event, the preset's extractor runs on the lab's event and on the recorded events of a real
  # Phoenix 1.7 app (../shared/fixtures/phoenix-1.7/events.etf); the fields it reads must come out
  # with the same keys and types, and be known (not "unknown") wherever the real app's are; the
  # lab's measurements must be ones the real event has.
  test "the lab's events have the shapes of a real Phoenix 1.7 app's for every field a preset reads",
       %{http_port: port} do
    assert File.exists?(@recording),
           "missing fixture #{@recording} (the recording of a real Phoenix app)"

    recorded = @recording |> File.read!() |> :erlang.binary_to_term()

    Lab.Faults.set(:controller_raise, true)
    Lab.Traffic.get(port, "/users/7")
    Lab.Faults.set(:controller_raise, false)

    assert wait_until(
             fn -> :ets.info(:lab_shape_capture, :size) == length(@shape_events) end,
             15_000
           ),
           "the lab emitted only #{inspect(for {e, _, _} <- :ets.tab2list(:lab_shape_capture), do: e)}"

    specs =
      for preset <- [:phoenix, :live_view, :oban],
          spec <- BeamExporter.Forwarder.Presets.specs(preset, []),
          into: %{},
          do: {spec.event, spec.extract}

    # The lab's repo prefix is its own ([:lab, :repo]); the recording's is [:my_app, :repo].
    real_name = fn
      [:lab, :repo, :query] -> [:my_app, :repo, :query]
      event -> event
    end

    extract_for = fn
      [:lab, :repo, :query] -> &BeamExporter.Forwarder.Presets.ecto_query/1
      event -> Map.fetch!(specs, event)
    end

    for event <- @shape_events do
      [{^event, lab_measurements, lab_metadata}] = :ets.lookup(:lab_shape_capture, event)
      extract = extract_for.(event)
      real = for {e, m, meta, _} <- recorded, e == real_name.(event), do: {m, meta}
      assert real != [], "no #{inspect(real_name.(event))} in the recording"

      # The recorded event whose extraction knows the most fields.
      {real_measurements, real_metadata} =
        Enum.min_by(real, fn {_, meta} ->
          Enum.count(extract.(meta), &(elem(&1, 1) == "unknown"))
        end)

      lab_fields = extract.(lab_metadata)
      real_fields = extract.(real_metadata)

      assert Map.keys(lab_fields) == Map.keys(real_fields),
             "#{inspect(event)}: #{inspect(lab_fields)} vs #{inspect(real_fields)}"

      for {key, real_value} <- real_fields do
        lab_value = Map.fetch!(lab_fields, key)

        assert type_of(lab_value) == type_of(real_value),
               "#{inspect(event)} #{key}: #{inspect(lab_value)} vs #{inspect(real_value)}"

        if real_value != "unknown",
          do: assert(lab_value != "unknown", "#{inspect(event)} #{key} is unknown in the lab")
      end

      real_keys = real |> Enum.flat_map(fn {m, _} -> Map.keys(m) end) |> MapSet.new()
      extra = MapSet.difference(MapSet.new(Map.keys(lab_measurements)), real_keys)

      assert MapSet.size(extra) == 0,
             "#{inspect(event)}: measurements #{inspect(MapSet.to_list(extra))} are not in the real event (#{inspect(Map.keys(real_measurements))})"
    end
  end

  defp type_of(value) when is_binary(value), do: :binary
  defp type_of(value) when is_boolean(value), do: :boolean
  defp type_of(value) when is_integer(value), do: :integer
  defp type_of(value) when is_float(value), do: :float
  defp type_of(value) when is_atom(value), do: :atom
  defp type_of(_value), do: :other

  test "the load client holds WebSocket connections that join and send LiveView events" do
    assert wait_until(
             fn -> length(events_named([:phoenix, :live_view, :handle_event, :stop])) >= 3 end,
             10_000
           )

    assert heartbeat_timeouts() == []
  end

  test "faults can be switched over HTTP and unknown ones are refused", %{http_port: port} do
    fault = Path.expand("../fault", __DIR__)

    assert {"mailbox_overflow on\n", 0} =
             System.cmd(fault, ["mailbox_overflow", "on", "--http-port", "#{port}"])

    assert Lab.Faults.on?(:mailbox_overflow)

    assert {"mailbox_overflow off\n", 0} =
             System.cmd(fault, ["mailbox_overflow", "off", "--http-port", "#{port}"])

    refute Lab.Faults.on?(:mailbox_overflow)
    assert {"unknown fault" <> _, 1} = System.cmd(fault, ["nope", "on", "--http-port", "#{port}"])
  end

  test "genserver_timeout: callers of Lab.SlowServer crash with call timeouts" do
    Lab.Faults.set(:genserver_timeout, true)

    assert wait_until(
             fn ->
               Enum.find(
                 events_named([:beam_exporter, :logger, :crash]),
                 &match?({_, _, %{reason: "timeout", server: "Lab.SlowServer"}, _}, &1)
               )
             end,
             15_000
           )

    assert {:message_queue_len, n} =
             Process.info(Process.whereis(Lab.SlowServer), :message_queue_len)

    assert n >= 1
  end

  test "websocket_disconnect: connections are dropped for missed heartbeats, and stay up once off" do
    Lab.Faults.set(:websocket_disconnect, true)
    # All 10 clients dropped after the 3 s heartbeat timeout (+ margin).
    assert wait_until(fn -> length(heartbeat_timeouts()) >= 10 end, 12_000)
    assert Enum.all?(heartbeat_timeouts(), &match?({_, _, %{transport: "websocket"}, _}, &1))

    Lab.Faults.set(:websocket_disconnect, false)
    # Connections opened under the fault may still time out once; after that, none.
    Process.sleep(4_000)
    Lab.TestSink.clear()
    Process.sleep(4_000)
    assert heartbeat_timeouts() == []
  end

  test "mailbox_overflow: Lab.MailboxConsumer's queue grows, then drains" do
    consumer = Process.whereis(Lab.MailboxConsumer)
    Lab.Faults.set(:mailbox_overflow, true)
    assert wait_until(fn -> queue_len(consumer) > 1_000 end, 10_000)
    Lab.Faults.set(:mailbox_overflow, false)
    assert wait_until(fn -> queue_len(consumer) == 0 end, 15_000)
  end

  test "memory_leak: Lab.LeakyServer's memory grows, then is released" do
    leaky = Process.whereis(Lab.LeakyServer)
    Lab.Faults.set(:memory_leak, true)
    assert wait_until(fn -> memory(leaky) > 50_000_000 end, 15_000)
    Lab.Faults.set(:memory_leak, false)
    assert wait_until(fn -> memory(leaky) < 1_000_000 end, 10_000)
  end

  test "ets_bloat: the :lab_cache table grows without eviction, then is cleared" do
    Lab.Faults.set(:ets_bloat, true)
    assert wait_until(fn -> :ets.info(:lab_cache, :size) > 200_000 end, 10_000)
    assert :ets.info(:lab_cache, :memory) * :erlang.system_info(:wordsize) > 30_000_000
    Lab.Faults.set(:ets_bloat, false)
    assert wait_until(fn -> :ets.info(:lab_cache, :size) == 100 end, 10_000)
  end

  test "restart_storm: Lab.FlakySupervisor restarts :flaky_worker repeatedly, then it stays up" do
    Lab.Faults.set(:restart_storm, true)

    assert wait_until(
             fn -> length(events_named([:beam_exporter, :logger, :supervisor_restart])) >= 3 end,
             10_000
           )

    assert Enum.all?(
             events_named([:beam_exporter, :logger, :supervisor_restart]),
             &match?({_, _, %{supervisor: "Lab.FlakySupervisor", child: "flaky_worker"}, _}, &1)
           )

    Lab.Faults.set(:restart_storm, false)
    pid = wait_until(fn -> stable_worker() end, 10_000)
    Process.sleep(600)
    assert Process.whereis(Lab.FlakyWorker) == pid
  end

  test "overload: run queues stay above 2 per scheduler while on, and the burners stop when off" do
    schedulers = System.schedulers_online()
    Lab.Faults.set(:overload, true)

    # The burners first (an earlier test's load may already have filled the run queues).
    burners = wait_until(fn -> running_burners() end, 10_000)
    assert length(burners) == 6 * schedulers

    assert wait_until(
             fn -> :erlang.statistics(:total_run_queue_lengths) > 2 * schedulers end,
             10_000
           )

    Lab.Faults.set(:overload, false)
    assert wait_until(fn -> not Enum.any?(burners, &Process.alive?/1) end, 10_000)

    assert wait_until(
             fn -> :erlang.statistics(:total_run_queue_lengths) <= 2 * schedulers end,
             10_000
           )
  end

  test "bad_config: without LAB_DATABASE_URL the application does not boot" do
    Application.stop(:beam_lab)
    url = System.get_env("LAB_DATABASE_URL")
    System.delete_env("LAB_DATABASE_URL")

    try do
      assert {:error, {:beam_lab, {:bad_return, _} = reason}} =
               Application.ensure_all_started(:beam_lab)

      assert inspect(reason) =~ "LAB_DATABASE_URL is required"
    after
      System.put_env("LAB_DATABASE_URL", url)
      {:ok, _} = Application.ensure_all_started(:beam_lab)
    end
  end

  defp heartbeat_timeouts do
    for {_, _, %{reason: "heartbeat_timeout"}, _} = e <-
          events_named([:beam_exporter, :socket, :disconnect]),
        do: e
  end

  # The burner pids once Lab.Burner has started them, else false.
  defp running_burners do
    case :sys.get_state(Lab.Burner) do
      [] -> false
      burners -> burners
    end
  end

  defp queue_len(pid), do: elem(Process.info(pid, :message_queue_len), 1)
  defp memory(pid), do: elem(Process.info(pid, :memory), 1)

  # The worker once it has lived past the 200 ms crash check.
  defp stable_worker do
    pid = Process.whereis(Lab.FlakyWorker)
    Process.sleep(300)
    pid != nil and Process.whereis(Lab.FlakyWorker) == pid and pid
  end
end
