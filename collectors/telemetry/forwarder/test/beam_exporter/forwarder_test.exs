defmodule BeamExporter.ForwarderTest do
  # Not async: :telemetry handlers are global, and these tests execute shared event names.
  use ExUnit.Case, async: false

  alias BeamExporter.Forwarder
  alias BeamExporter.Forwarder.UdpSink

  setup context, do: UdpSink.setup_for_test(context, "fwd")

  defp start(ctx, opts) do
    start_supervised!({Forwarder, [name: ctx.name, port: ctx.port] ++ opts})
  end

  test "a Phoenix router event arrives as a native datagram with seconds and the route template",
       ctx do
    start(ctx, presets: [:phoenix])

    conn = %{
      method: "POST",
      status: 201,
      request_path: "/users/42/posts",
      private: %{}
    }

    native = System.convert_time_unit(250, :millisecond, :native)
    before = System.monotonic_time()

    :telemetry.execute([:phoenix, :router_dispatch, :stop], %{duration: native}, %{
      conn: conn,
      route: "/users/:id/posts",
      plug: MyAppWeb.PostController,
      plug_opts: :create
    })

    Forwarder.flush(ctx.name)

    [datagram] = UdpSink.receive_all(ctx.socket)
    assert <<"BXT1", _::binary>> = datagram
    refute datagram =~ "/users/42"
    {node, [{event, measurements, metadata, time}]} = UdpSink.decode(datagram)
    assert node == node()
    assert event == [:phoenix, :router_dispatch, :stop]
    assert measurements == %{duration: 0.25}

    assert metadata == %{
             method: "POST",
             status: 201,
             route: "/users/:id/posts",
             plug: "MyAppWeb.PostController",
             plug_opts: "create"
           }

    assert is_integer(time) and time >= before
  end

  test "counted events carry count: 1", ctx do
    start(ctx, presets: [:phoenix])
    Forwarder.socket_disconnect(:websocket, :heartbeat_timeout)
    Forwarder.flush(ctx.name)

    assert [
             {[:beam_exporter, :socket, :disconnect], %{count: 1},
              %{transport: "websocket", reason: "heartbeat_timeout"}, _}
           ] = UdpSink.events(ctx.socket)
  end

  test "events are sent as they come, without an explicit flush", ctx do
    start(ctx, events: [[:fwd_test, :timer]])
    :telemetry.execute([:fwd_test, :timer], %{value: 7}, %{})
    assert [{[:fwd_test, :timer], %{value: 7}, %{}, _}] = UdpSink.events(ctx.socket, 1000)
  end

  test "many events are batched into datagrams under the MTU, none lost", ctx do
    start(ctx, mtu: 300, events: [{[:fwd_test, :batch], [:i]}], flush_interval: 3_600_000)
    for i <- 1..500, do: :telemetry.execute([:fwd_test, :batch], %{duration: 1}, %{i: i})
    Forwarder.flush(ctx.name)

    # Both forms go to the same socket: the events, and the flush's own counters.
    all = UdpSink.receive_all(ctx.socket, 300, "BXT")
    datagrams = Enum.filter(all, &match?("BXT1" <> _, &1))
    assert length(datagrams) > 10
    assert Enum.all?(datagrams, &(byte_size(&1) <= 300))

    received =
      datagrams
      |> Enum.flat_map(&elem(UdpSink.decode(&1), 1))
      |> Enum.map(fn {_, _, %{i: i}, _} -> i end)

    assert Enum.sort(received) == Enum.to_list(1..500)

    assert %{events_sent: 500, dropped_overload: 0, dropped_oversize: 0, datagrams_sent: n} =
             Forwarder.stats(ctx.name)

    assert n == length(all)
  end

  test "an event bigger than the MTU is dropped and counted", ctx do
    start(ctx, mtu: 600, events: [{[:fwd_test, :big], [:blob]}])
    :telemetry.execute([:fwd_test, :big], %{}, %{blob: String.duplicate("x", 1000)})
    :telemetry.execute([:fwd_test, :big], %{}, %{blob: "small"})
    Forwarder.flush(ctx.name)
    assert [{_, _, %{blob: "small"}, _}] = UdpSink.events(ctx.socket)
    assert %{dropped_oversize: 1, events_sent: 1} = Forwarder.stats(ctx.name)
  end

  test "on overload (a stalled sender) events are dropped and counted and the caller never blocks",
       ctx do
    start(ctx, buffer_size: 100, events: [[:fwd_test, :overload]])
    sender = Forwarder.sender(ctx.name)
    :sys.suspend(sender)

    # 10_000 events against a buffer of 100 with nobody draining: returns at once.
    for _ <- 1..10_000, do: :telemetry.execute([:fwd_test, :overload], %{n: 1}, %{})
    assert %{queued: 100, dropped_overload: 9_900} = Forwarder.stats(ctx.name)

    :sys.resume(sender)
    Forwarder.flush(ctx.name)
    assert length(UdpSink.events(ctx.socket)) == 100
    assert %{queued: 0, events_sent: 100} = Forwarder.stats(ctx.name)
  end

  test "a raising extractor is counted and does not detach the handler", ctx do
    extract = fn
      %{ok: true} -> %{ok: true}
      _ -> raise ArgumentError, "bad metadata"
    end

    start(ctx, events: [{[:fwd_test, :fragile], extract}])
    :telemetry.execute([:fwd_test, :fragile], %{}, %{ok: false})
    :telemetry.execute([:fwd_test, :fragile], %{}, %{})
    :telemetry.execute([:fwd_test, :fragile], %{}, %{ok: true})
    Forwarder.flush(ctx.name)

    assert [_handler] = :telemetry.list_handlers([:fwd_test, :fragile])
    assert [{[:fwd_test, :fragile], %{}, %{ok: true}, _}] = UdpSink.events(ctx.socket)
    assert %{dropped_unexpected_type: 2, events_sent: 1} = Forwarder.stats(ctx.name)
  end

  test "odd measurements do not break the handler: non-numbers are dropped on the wire", ctx do
    start(ctx, events: [[:fwd_test, :odd]])
    :telemetry.execute([:fwd_test, :odd], %{duration: :not_a_number, n: 2}, %{})
    Forwarder.flush(ctx.name)
    assert [{_, %{n: 2}, %{}, _}] = UdpSink.events(ctx.socket)
  end

  # The supervisor reports the kill; keep it out of the test output.
  @tag :capture_log
  test "a sender killed outright is restarted with fresh handlers that still forward", ctx do
    start(ctx, events: [[:fwd_test, :restart]])
    old = Forwarder.sender(ctx.name)
    ref = Process.monitor(old)
    Process.exit(old, :kill)
    assert_receive {:DOWN, ^ref, :process, ^old, :killed}
    assert eventually(fn -> Forwarder.sender(ctx.name) != old end)

    :telemetry.execute([:fwd_test, :restart], %{n: 1}, %{})
    Forwarder.flush(ctx.name)
    assert [_one_handler] = :telemetry.list_handlers([:fwd_test, :restart])
    assert [{[:fwd_test, :restart], %{n: 1}, %{}, _}] = UdpSink.events(ctx.socket)
  end

  test "stopping the forwarder detaches its handlers", ctx do
    start(ctx, events: [[:fwd_test, :detach]])
    assert [_] = :telemetry.list_handlers([:fwd_test, :detach])
    stop_supervised!(ctx.name)
    assert :telemetry.list_handlers([:fwd_test, :detach]) == []
  end

  test "stopping the forwarder erases its persistent_term entry", ctx do
    start(ctx, events: [[:fwd_test, :erase]])
    assert %{buffer: _, sender: _, extracts: _} = :persistent_term.get({Forwarder, ctx.name})
    stop_supervised!(ctx.name)
    assert :persistent_term.get({Forwarder, ctx.name}, :erased) == :erased
    assert_raise ArgumentError, fn -> Forwarder.stats(ctx.name) end
  end

  test "two instances forwarding the same event each get it, on their own counters", ctx do
    {other_socket, other_port} = UdpSink.open()
    on_exit(fn -> :gen_udp.close(other_socket) end)
    other = :"#{ctx.name}_other"
    start(ctx, events: [[:fwd_test, :both]])

    start_supervised!({Forwarder, name: other, port: other_port, events: [[:fwd_test, :both]]},
      id: other
    )

    :telemetry.execute([:fwd_test, :both], %{n: 1}, %{})
    Forwarder.flush(ctx.name)
    Forwarder.flush(other)

    assert [{[:fwd_test, :both], %{n: 1}, %{}, _}] = UdpSink.events(ctx.socket)
    assert [{[:fwd_test, :both], %{n: 1}, %{}, _}] = UdpSink.events(other_socket)
    assert %{events_sent: 1} = Forwarder.stats(ctx.name)
    assert %{events_sent: 1} = Forwarder.stats(other)
  end

  defp eventually(check, tries \\ 100) do
    cond do
      check.() -> true
      tries == 0 -> false
      true -> Process.sleep(10) && eventually(check, tries - 1)
    end
  end
end
