defmodule BeamExporter.Forwarder.LoggerHandler do
  @moduledoc """
  An OTP `:logger` handler (installed by the `:logger` preset) that turns crash reports,
  supervisor child restarts and error-level messages into `:telemetry` events:

    * `[:beam_exporter, :logger, :crash]` `%{count: 1}`, `%{reason: "timeout" | ..., server: s}`
      (`s` names the called server of a call timeout, `""` otherwise)
    * `[:beam_exporter, :logger, :supervisor_restart]` `%{count: 1}`, `%{supervisor: s, child: c}`
    * `[:beam_exporter, :logger, :message]` `%{count: 1}`, `%{level: "error" | "critical" | ...}`

  `log/2` runs in the process that logs, so it only classifies and executes the events; it never
  raises (logger removes a handler that crashes).
  """

  alias BeamExporter.Forwarder.LoggerReport

  @doc "Installs the handler under `id` (level :error: only error-or-worse events reach it)."
  def add(id), do: :logger.add_handler(id, __MODULE__, %{level: :error})

  @doc "Removes it."
  def remove(id), do: :logger.remove_handler(id)

  @doc false
  def log(%{level: level} = event, _config) do
    :telemetry.execute([:beam_exporter, :logger, :message], %{count: 1}, %{
      level: Atom.to_string(level)
    })

    case LoggerReport.classify(event) do
      {:crash, meta} ->
        :telemetry.execute([:beam_exporter, :logger, :crash], %{count: 1}, meta)

      {:supervisor_restart, meta} ->
        :telemetry.execute([:beam_exporter, :logger, :supervisor_restart], %{count: 1}, meta)

      :ignore ->
        :ok
    end
  rescue
    _ -> :ok
  catch
    _, _ -> :ok
  end
end
