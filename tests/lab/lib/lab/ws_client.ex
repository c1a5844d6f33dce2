defmodule Lab.WsClient do
  @moduledoc """
  One load-client WebSocket connection to the lab's own server (`/live/websocket`): sends a
  `heartbeat` every 0.5 s and an `event:inc` every 1.5 s, and closes the connection itself after a
  random 30-90 s (a user leaving: the baseline of `closed` disconnects that a disconnect-spike
  alert compares against). Whenever the connection ends it reconnects after 500 ms. Never crashes.
  """

  alias Lab.Http.WebSocket

  @heartbeat_ms 500
  @reconnect_ms 500

  def start_link(port), do: Task.start_link(fn -> run(port) end)

  def child_spec({port, index}),
    do: %{id: {__MODULE__, index}, start: {__MODULE__, :start_link, [port]}}

  def run(port) do
    session(port)
    Process.sleep(@reconnect_ms)
    run(port)
  end

  defp session(port) do
    with {:ok, socket} <- :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false], 2_000),
         :ok <- handshake(socket) do
      leave_at = System.monotonic_time(:millisecond) + 30_000 + :rand.uniform(60_000)
      chat(socket, 0, leave_at)
    end
  catch
    _, _ -> :ok
  end

  defp handshake(socket) do
    key = Base.encode64(:crypto.strong_rand_bytes(16))

    :ok =
      :gen_tcp.send(socket, [
        "GET /live/websocket HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n",
        "sec-websocket-version: 13\r\nsec-websocket-key: ",
        key,
        "\r\n\r\n"
      ])

    {:ok, response} = read_until(socket, "\r\n\r\n", <<>>)
    if String.starts_with?(response, "HTTP/1.1 101"), do: :ok, else: :error
  end

  defp chat(socket, n, leave_at) do
    if System.monotonic_time(:millisecond) >= leave_at do
      :gen_tcp.send(socket, WebSocket.encode(:close, <<1000::16>>, :crypto.strong_rand_bytes(4)))
      :gen_tcp.close(socket)
    else
      beat(socket, n, leave_at)
    end
  end

  defp beat(socket, n, leave_at) do
    message = if rem(n, 3) == 2, do: "event:inc", else: "heartbeat"
    :ok = :gen_tcp.send(socket, WebSocket.encode(:text, message, :crypto.strong_rand_bytes(4)))

    # Read whatever the server sent (replies, or a close), then wait for the next beat.
    case :gen_tcp.recv(socket, 0, @heartbeat_ms) do
      {:ok, data} ->
        if closed?(data) do
          :gen_tcp.close(socket)
        else
          Process.sleep(@heartbeat_ms)
          chat(socket, n + 1, leave_at)
        end

      {:error, :timeout} ->
        chat(socket, n + 1, leave_at)

      {:error, _} ->
        :gen_tcp.close(socket)
    end
  end

  defp closed?(data) do
    match?({:ok, :close, _, _}, WebSocket.decode(data))
  end

  defp read_until(socket, marker, acc) do
    if String.contains?(acc, marker) do
      {:ok, acc}
    else
      {:ok, data} = :gen_tcp.recv(socket, 0, 2_000)
      read_until(socket, marker, acc <> data)
    end
  end
end

defmodule Lab.LoadClient do
  @moduledoc "Holds `clients` WebSocket connections (`Lab.WsClient`) to the lab's server."
  use Supervisor

  def start_link(opts), do: Supervisor.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    port = Keyword.fetch!(opts, :port)
    children = for i <- 1..Keyword.fetch!(opts, :clients)//1, do: {Lab.WsClient, {port, i}}
    Supervisor.init(children, strategy: :one_for_one)
  end
end
