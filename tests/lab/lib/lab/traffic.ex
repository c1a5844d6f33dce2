defmodule Lab.Traffic do
  @moduledoc """
  Generates HTTP traffic against the lab's own server: `rps` requests per second, mostly
  `GET /users/<id>` (some ids missing: 404), some `GET /` and `GET /slow` (which calls
  `Lab.SlowServer`: 504 after 5 s under the `genserver_timeout` fault), a few unmatched paths. Each request
  runs in its own short-lived process that never crashes.
  """
  use GenServer

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    state = %{port: Keyword.fetch!(opts, :port), rps: Keyword.fetch!(opts, :rps)}
    if state.rps > 0, do: schedule(state)
    {:ok, state}
  end

  @impl true
  def handle_info(:tick, state) do
    path =
      Enum.random([
        "/slow",
        "/users/#{:rand.uniform(120)}",
        "/users/#{:rand.uniform(120)}",
        "/users/#{:rand.uniform(120)}",
        "/",
        "/nope/#{:rand.uniform(9)}"
      ])

    spawn(fn -> get(state.port, path) end)
    schedule(state)
    {:noreply, state}
  end

  @doc "A blocking GET; returns {:ok, status} or :error."
  def get(port, path) do
    {:ok, socket} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false], 2_000)

    :ok =
      :gen_tcp.send(
        socket,
        "GET #{path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
      )

    {:ok, <<"HTTP/1.1 ", status::binary-size(3), _::binary>>} = :gen_tcp.recv(socket, 0, 10_000)
    :gen_tcp.close(socket)
    {:ok, String.to_integer(status)}
  catch
    _, _ -> :error
  end

  defp schedule(state), do: Process.send_after(self(), :tick, max(div(1000, state.rps), 1))
end
