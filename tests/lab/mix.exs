defmodule Lab.MixProject do
  use Mix.Project

  # The incident lab: a Phoenix-shaped app (no Phoenix) that uses the forwarder and can produce each
  # production fault on demand. Offline like the forwarder: TELEMETRY_PATH (see its mix.exs).
  def project do
    [
      app: :beam_lab,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: [{:beam_exporter_forwarder, path: "../../collectors/telemetry/forwarder"}]
    ]
  end

  def application do
    [mod: {Lab.Application, []}, extra_applications: [:logger, :crypto]]
  end
end
