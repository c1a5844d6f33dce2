defmodule Lab.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    config = Lab.Config.from_env(System.get_env())
    :persistent_term.put(Lab.Config, config)

    children = [
      {BeamExporter.Forwarder,
       port: config.telemetry_port,
       presets: [:phoenix, :live_view, :ecto, :logger],
       repo_prefixes: [[:lab, :repo]]},
      Lab.Faults,
      Lab.SlowServer,
      Lab.SlowCallers,
      Lab.MailboxConsumer,
      Lab.MailboxProducer,
      Lab.LeakyServer,
      Lab.Cache,
      Lab.FlakySupervisor,
      Lab.Burner,
      {Lab.Http.Server, port: config.http_port},
      {Lab.LoadClient, port: config.http_port, clients: config.ws_clients},
      {Lab.Traffic, port: config.http_port, rps: config.traffic}
    ]

    Supervisor.start_link(children ++ halt_timer(config.halt_after_s),
      strategy: :one_for_one,
      name: Lab.Supervisor
    )
  end

  # A crash loop the exporter can watch: the node runs for a while, then dies, like a release
  # whose config error surfaces only at first use. With `run-lab --restart` it comes back.
  defp halt_timer(nil), do: []

  defp halt_timer(seconds) do
    halt = fn ->
      Process.sleep(seconds * 1000)
      require Logger
      Logger.error("LAB_HALT_AFTER_S=#{seconds} elapsed: halting the node (crash-loop fault)")
      Logger.flush()
      System.halt(1)
    end

    [Supervisor.child_spec({Task, halt}, id: :halt_timer)]
  end
end
