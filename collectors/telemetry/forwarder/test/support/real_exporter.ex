defmodule BeamExporter.Forwarder.RealExporter do
  @moduledoc """
  The real beam_exporter binary (path in `BEAM_EXPORTER_BINARY`, set by ctest) with the shipped
  configuration and the telemetry collector alone, on free loopback ports; `/metrics` read over
  plain HTTP. A missing binary fails the test (never skips).
  """

  @config Path.expand("../../../../../config/beam_exporter.yml", __DIR__)

  def start! do
    binary = System.get_env("BEAM_EXPORTER_BINARY") || raise "BEAM_EXPORTER_BINARY is not set (ctest sets it to the built beam_exporter)"
    File.exists?(binary) || raise "BEAM_EXPORTER_BINARY #{binary} does not exist"
    {http, udp} = {free_port(:tcp), free_port(:udp)}

    port =
      Port.open({:spawn_executable, binary}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: [
          "--web.listen-address=127.0.0.1:#{http}",
          "--config.file=#{@config}",
          "--no-collector.beam",
          "--telemetry.listen-udp=127.0.0.1:#{udp}"
        ]
      ])

    exporter = %{port: port, http: http, udp: udp, os_pid: Port.info(port)[:os_pid]}
    wait_until!(fn -> match?({200, _}, get(exporter, "/-/ready")) end, 10_000)
    exporter
  end

  @doc "SIGTERM to the exporter (it may already have gone with the port's owner, the test process)."
  def stop(%{os_pid: os_pid}) do
    System.cmd("kill", ["-TERM", Integer.to_string(os_pid)], stderr_to_stdout: true)
    :ok
  end

  def metrics(exporter) do
    {200, body} = get(exporter, "/metrics")
    body
  end

  @doc "The value of the sample `series` (name and labels exactly as exposed), or nil."
  def value(metrics, series) do
    metrics
    |> String.split("\n")
    |> Enum.find_value(fn line ->
      case String.split(line, " ") do
        [^series, value | _] -> parse(value)
        _ -> nil
      end
    end)
  end

  @doc "Waits until `fun` returns true (polling every 50 ms), or raises after `timeout_ms`."
  def wait_until!(fun, timeout_ms) do
    deadline = System.monotonic_time(:millisecond) + timeout_ms
    Stream.repeatedly(fn -> fun.() || (Process.sleep(50) && false) end)
    |> Enum.find(fn done -> done or System.monotonic_time(:millisecond) > deadline end)
    |> Kernel.||(raise "condition not met within #{timeout_ms} ms")
  end

  defp parse("+Inf"), do: :infinity
  defp parse(text), do: if(String.contains?(text, [".", "e"]), do: String.to_float(text), else: String.to_integer(text))

  defp get(%{http: http}, path) do
    with {:ok, socket} <- :gen_tcp.connect({127, 0, 0, 1}, http, [:binary, active: false], 1000),
         :ok <- :gen_tcp.send(socket, "GET #{path} HTTP/1.0\r\nHost: localhost\r\n\r\n"),
         {:ok, response} <- read_all(socket, []) do
      [head, body] = String.split(response, "\r\n\r\n", parts: 2)
      [_, status | _] = String.split(head, " ")
      {String.to_integer(status), body}
    else
      _ -> {:error, ""}
    end
  end

  defp read_all(socket, acc) do
    case :gen_tcp.recv(socket, 0, 5000) do
      {:ok, data} -> read_all(socket, [acc, data])
      {:error, :closed} -> {:ok, IO.iodata_to_binary(acc)}
      error -> error
    end
  end

  defp free_port(:tcp) do
    {:ok, s} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, p} = :inet.port(s)
    :gen_tcp.close(s)
    p
  end

  defp free_port(:udp) do
    {:ok, s} = :gen_udp.open(0, ip: {127, 0, 0, 1})
    {:ok, p} = :inet.port(s)
    :gen_udp.close(s)
    p
  end
end
