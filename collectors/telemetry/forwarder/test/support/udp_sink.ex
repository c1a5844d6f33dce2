defmodule BeamExporter.Forwarder.UdpSink do
  @moduledoc """
  A real UDP socket on loopback that receives the forwarder's datagrams and decodes them the way
  the exporter does: the 4-byte magic, then the external term format.
  """

  def open do
    {:ok, socket} =
      :gen_udp.open(0, [:binary, active: false, ip: {127, 0, 0, 1}, recbuf: 4 * 1024 * 1024])

    {:ok, port} = :inet.port(socket)
    {socket, port}
  end

  @doc """
  For an ExUnit `setup`: a sink closed when the test ends (`:socket`, `:port`), and a forwarder
  instance `:name` of its own for the test (`prefix` and a hash of the test's name).
  """
  def setup_for_test(context, prefix) do
    {socket, port} = open()
    ExUnit.Callbacks.on_exit(fn -> :gen_udp.close(socket) end)
    %{socket: socket, port: port, name: :"#{prefix}_#{context.test |> Atom.to_string() |> :erlang.phash2()}"}
  end

  @doc """
  Receives datagrams until `timeout_ms` passes without one; returns those of one form raw:
  `"BXT1"` (events, the default) or `"BXT2"` (aggregated metrics, sent every flush interval), or
  of both with `"BXT"`.
  """
  def receive_all(socket, timeout_ms \\ 300, magic \\ "BXT1", acc \\ []) do
    case :gen_udp.recv(socket, 0, timeout_ms) do
      {:ok, {_addr, _port, datagram}} when binary_part(datagram, 0, byte_size(magic)) == magic ->
        receive_all(socket, timeout_ms, magic, [datagram | acc])

      {:ok, _other_form} ->
        receive_all(socket, timeout_ms, magic, acc)

      {:error, :timeout} ->
        Enum.reverse(acc)
    end
  end

  @doc "Decodes one datagram into `{node, events}` or `{node, metrics}`."
  def decode("BXT1" <> etf), do: :erlang.binary_to_term(etf, [:safe])
  def decode("BXT2" <> etf), do: :erlang.binary_to_term(etf, [:safe])

  @doc "All metrics (`{name, type, help, buckets, label_names, series}`) of the BXT2 datagrams received until quiet."
  def metrics(socket, timeout_ms \\ 300) do
    socket |> receive_all(timeout_ms, "BXT2") |> Enum.flat_map(fn d -> elem(decode(d), 1) end)
  end

  @doc "All events of the datagrams received until quiet."
  def events(socket, timeout_ms \\ 300) do
    socket |> receive_all(timeout_ms) |> Enum.flat_map(fn d -> elem(decode(d), 1) end)
  end
end
