defmodule BeamExporter.Forwarder.MixProject do
  use Mix.Project

  # Users get `telemetry` from Hex. This repository's tests run offline: there, TELEMETRY_PATH
  # names an OTP application directory (with ebin/telemetry.app) built from the test-only double of
  # the :telemetry API (tests/support/telemetry_test_double), put on the code path instead of the
  # dependency. The double is never shipped: users always get {:telemetry, "~> 1.0"} from Hex.
  @telemetry_path System.get_env("TELEMETRY_PATH")
  @version "0.1.0"
  @source_url "https://github.com/beam-exporter/beam_exporter"

  def project do
    [
      app: :beam_exporter_forwarder,
      version: @version,
      elixir: "~> 1.14",
      description: "Forwards :telemetry events to beam_exporter over UDP (native ETF datagrams)",
      start_permanent: Mix.env() == :prod,
      elixirc_paths: if(Mix.env() == :test, do: ["lib", "test/support"], else: ["lib"]),
      deps: deps(),
      package: package(),
      docs: docs(),
      source_url: @source_url
    ]
  end

  # What a Hex release holds (also what a git dependency with `sparse:` needs).
  def package do
    [
      licenses: ["Apache-2.0"],
      links: %{
        "GitHub" => @source_url,
        "Exporter docs" => @source_url <> "/blob/main/docs/telemetry.md"
      },
      files: ~w(lib mix.exs README.md CHANGELOG.md LICENSE .formatter.exs)
    ]
  end

  # ExDoc settings, for `mix docs` where ex_doc is available.
  defp docs do
    [
      main: "readme",
      extras: ["README.md", "CHANGELOG.md"],
      source_ref: "v#{@version}",
      source_url_pattern:
        @source_url <> "/blob/v#{@version}/collectors/telemetry/forwarder/%{path}#L%{line}"
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
