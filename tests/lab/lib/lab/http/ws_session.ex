defmodule Lab.Http.WsSession do
  @moduledoc """
  A WebSocket session shaped like a Phoenix socket carrying a LiveView: on connect it emits
  `[:phoenix, :socket_connected]`, `[:phoenix, :channel_joined]` and a LiveView mount span; each
  `event:<name>` text message runs a `handle_event` span and a `channel_handled_in` event; a
  `heartbeat` message is answered `ok`.

  When nothing arrives from the client for 3 s (clients beat every 0.5 s) the server drops the
  connection, emitting `[:beam_exporter, :socket, :disconnect]` with reason `heartbeat_timeout`.
  While the `websocket_disconnect` fault is on, incoming frames do not count as heartbeats (as if
  lost), so every connection is dropped that way about 3 s after it opens. A client close gives
  reason `closed`.
  """

  alias Lab.Http.WebSocket

  @heartbeat_timeout_ms 3_000
  @endpoint Lab.Endpoint

  def run(socket, headers) do
    case headers["sec-websocket-key"] do
      nil ->
        :gen_tcp.send(
          socket,
          "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )

      key ->
        :ok =
          :gen_tcp.send(socket, [
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n",
            "sec-websocket-accept: ",
            WebSocket.accept_key(key),
            "\r\n\r\n"
          ])

        :ok = :inet.setopts(socket, packet: :raw)
        lv_socket = connect()
        reason = loop(socket, lv_socket, <<>>, now())
        BeamExporter.Forwarder.socket_disconnect(:websocket, reason)
    end
  end

  defp connect do
    start = System.monotonic_time()

    socket = %{
      endpoint: @endpoint,
      channel: Lab.DashboardChannel,
      handler: Lab.UserSocket,
      transport: :websocket,
      topic: "lv:#{System.unique_integer([:positive])}"
    }

    :telemetry.execute(
      [:phoenix, :socket_connected],
      %{duration: System.monotonic_time() - start},
      %{
        endpoint: @endpoint,
        transport: :websocket,
        user_socket: Lab.UserSocket,
        result: :ok,
        params: %{},
        connect_info: %{},
        vsn: "2.0.0",
        serializer: Lab.Serializer,
        log: false
      }
    )

    :telemetry.execute(
      [:phoenix, :channel_joined],
      %{duration: System.monotonic_time() - start},
      %{result: :ok, params: %{}, socket: socket}
    )

    lv = %{
      view: Lab.DashboardLive,
      assigns: %{live_action: :index},
      transport_pid: self(),
      endpoint: @endpoint
    }

    :telemetry.span(
      [:phoenix, :live_view, :mount],
      %{socket: lv, params: %{}, session: %{}, uri: "http://lab/dashboard"},
      fn -> {:ok, %{socket: lv, params: %{}, session: %{}, uri: "http://lab/dashboard"}} end
    )

    %{channel: socket, live_view: lv}
  end

  defp loop(socket, session, buffer, last_heartbeat) do
    case WebSocket.decode(buffer) do
      {:ok, type, payload, rest} ->
        heard = if Lab.Faults.on?(:websocket_disconnect), do: last_heartbeat, else: now()

        case handle_frame(socket, session, type, payload) do
          :continue -> loop(socket, session, rest, heard)
          {:stop, reason} -> reason
        end

      {:error, _} ->
        :protocol_error

      :more ->
        wait = max(@heartbeat_timeout_ms - (now() - last_heartbeat), 0)

        case :gen_tcp.recv(socket, 0, wait) do
          {:ok, data} ->
            loop(socket, session, buffer <> data, last_heartbeat)

          {:error, :timeout} ->
            :gen_tcp.send(socket, WebSocket.encode(:close, <<1001::16>>)) && :heartbeat_timeout

          {:error, _closed} ->
            :closed
        end
    end
  end

  defp handle_frame(socket, _session, :text, "heartbeat") do
    unless Lab.Faults.on?(:websocket_disconnect),
      do: :gen_tcp.send(socket, WebSocket.encode(:text, "ok"))

    :continue
  end

  defp handle_frame(socket, session, :text, "event:" <> event) do
    meta = %{socket: session.live_view, event: event, params: %{}}
    :telemetry.span([:phoenix, :live_view, :handle_event], meta, fn -> {:ok, meta} end)

    :telemetry.execute([:phoenix, :channel_handled_in], %{duration: 1_000}, %{
      event: event,
      params: %{},
      socket: session.channel
    })

    :gen_tcp.send(socket, WebSocket.encode(:text, "ack:" <> event))
    :continue
  end

  defp handle_frame(socket, _session, :ping, payload),
    do: :gen_tcp.send(socket, WebSocket.encode(:pong, payload)) && :continue

  defp handle_frame(_socket, _session, :close, _payload), do: {:stop, :closed}
  defp handle_frame(_socket, _session, _type, _payload), do: :continue

  defp now, do: System.monotonic_time(:millisecond)
end
