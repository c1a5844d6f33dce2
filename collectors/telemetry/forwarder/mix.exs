defmodule BeamExporter.Forwarder.MixProject do
  use Mix.Project

  # Users get `telemetry` from Hex. This repository's tests run offline: there, TELEMETRY_PATH
  # names an OTP application directory (with ebin/telemetry.app) built from the test-only double of
  # the :telemetry API (tests/support/telemetry_test_double), put on the code path instead of the
  # dependency. The double is never shipped: users always get {:telemetry, "~> 1.0"} from Hex.
  @telemetry_path System.get_env("TELEMETRY_PATH")

  def project do
    [
      app: :beam_exporter_forwarder,
      version: "0.1.0",
      elixir: "~> 1.14",
      description: "Forwards :telemetry events to beam_exporter over UDP (native ETF datagrams)",
      start_permanent: Mix.env() == :prod,
      elixirc_paths: if(Mix.env() == :test, do: ["lib", "test/support"], else: ["lib"]),
      deps: deps()
    ]
  end

  def application do
    [extra_applications: [:logger | telemetry_application()]]
  end

  defp deps do
    if @telemetry_path do
      true = Code.prepend_path(Path.join(@telemetry_path, "ebin"))
      []
    else
      [{:telemetry, "~> 1.0"}]
    end
  end

  # A Hex dependency is started through `deps`; the code-path one has to be listed here.
  defp telemetry_application, do: if(@telemetry_path, do: [:telemetry], else: [])
end
