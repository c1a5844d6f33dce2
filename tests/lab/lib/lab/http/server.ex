defmodule Lab.Http.Server do
  @moduledoc """
  A small HTTP/1.1 server on `:gen_tcp` (one request per connection, plus WebSocket upgrade):
  a listening socket and a pool of acceptors, each connection in its own process
  (`Lab.Http.Connection`).
  """
  use GenServer

  @acceptors 8

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    {:ok, listen} =
      :gen_tcp.listen(Keyword.fetch!(opts, :port), [
        :binary,
        packet: :http_bin,
        active: false,
        reuseaddr: true,
        ip: {127, 0, 0, 1},
        backlog: 1024
      ])

    for _ <- 1..@acceptors, do: spawn_link(fn -> accept_loop(listen) end)
    {:ok, listen}
  end

  defp accept_loop(listen) do
    {:ok, socket} = :gen_tcp.accept(listen)
    pid = spawn(fn -> receive(do: (:go -> Lab.Http.Connection.serve(socket))) end)
    :ok = :gen_tcp.controlling_process(socket, pid)
    send(pid, :go)
    accept_loop(listen)
  end
end
