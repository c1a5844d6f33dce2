defmodule BeamExporter.Forwarder.CalledServer do
  @moduledoc """
  Names the server a timed-out call was waiting for, from the caller's exit reason, as a
  low-cardinality label value (`beam_crash_reports_total{server}`), so an alert on call timeouts
  can say which server is slow. Pure.

  Only call timeouts have a server: `{:timeout, {m, :call, [server | _]}}` with `m` one of
  `GenServer`, `:gen_server`, `:gen_statem`, `:gen`. Every other reason gives `""` (so every
  crash event carries the same metadata keys, and Prometheus treats the empty value as no label).

  The server is rendered like the `supervisor` of supervisor restarts (`Labels.module_name/1`):

    * a registered name, or `{name, node}` on another node: the name, Elixir aliases without the
      `Elixir.` prefix (`Lab.SlowServer`, `my_server`);
    * `{:global, name}`: the name when it is an atom, else `"global"`;
    * `{:via, module, name}`: `"via:"` and the registry module (`"via:Registry"`): the names kept
      in a registry are arbitrary terms (often one per user or session), so they are not used;
    * a pid: `"pid"` (a pid string would make a new series per process);
    * anything else: `"other"`.
  """

  alias BeamExporter.Forwarder.{CrashReason, Labels}

  @call_modules [GenServer, :gen_server, :gen_statem, :gen]

  @doc "The called server of a call-timeout exit `reason`, else `\"\"`."
  @spec of_reason(term) :: String.t()
  def of_reason(reason) do
    case CrashReason.unwrap(reason) do
      {:timeout, {module, :call, [server | _]}} when module in @call_modules -> render(server)
      _ -> ""
    end
  end

  defp render(pid) when is_pid(pid), do: "pid"
  defp render({:global, name}) when is_atom(name), do: Labels.module_name(name)
  defp render({:global, _}), do: "global"
  defp render({:via, module, _}) when is_atom(module), do: "via:" <> Labels.module_name(module)
  defp render({name, node}) when is_atom(name) and is_atom(node), do: render(name)
  defp render(name) when is_atom(name) and name != nil, do: Labels.module_name(name)
  defp render(_), do: "other"
end
