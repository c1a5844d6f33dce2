defmodule Lab.Config do
  @moduledoc """
  The lab's settings, from environment variables (read once at boot).

  `LAB_DATABASE_URL` is required, like a real release's database URL: without it the
  application refuses to start (the "bad configuration at boot" fault).
  """

  @enforce_keys [:database_url, :http_port, :telemetry_port, :ws_clients, :traffic, :halt_after_s]
  defstruct @enforce_keys

  @doc "Parses a map of environment variables; raises with a clear message on a bad or missing one."
  def from_env(env) do
    %__MODULE__{
      database_url:
        Map.get(env, "LAB_DATABASE_URL") ||
          raise(ArgumentError, "LAB_DATABASE_URL is required but not set"),
      http_port: int(env, "LAB_HTTP_PORT", 4000),
      telemetry_port: int(env, "LAB_TELEMETRY_PORT", 8125),
      ws_clients: int(env, "LAB_WS_CLIENTS", 20),
      traffic: int(env, "LAB_TRAFFIC_RPS", 20),
      # Set: the node halts (exit status 1) that many seconds after booting (see Lab.Application).
      halt_after_s: int(env, "LAB_HALT_AFTER_S", nil)
    }
  end

  defp int(env, key, default) do
    case Map.fetch(env, key) do
      :error ->
        default

      {:ok, text} ->
        case Integer.parse(text) do
          {n, ""} when n >= 0 -> n
          _ -> raise ArgumentError, "#{key} must be a non-negative integer, got #{inspect(text)}"
        end
    end
  end
end
