defmodule BeamExporter.Forwarder.LoggerReport do
  @moduledoc """
  Classifies an OTP `:logger` event (pure) into the forwarder's logger telemetry events:

    * `{:crash, %{reason: r, server: s}}` for a proc_lib crash report (every gen_server,
      gen_statem, Task or proc_lib process that dies abnormally writes one, after its own
      terminate report, so counting these counts each crash once) and for the emulator's error
      report of a plain `spawn`ed process; `server` names the called server of a call timeout
      (`CalledServer`), `""` for any other reason;
    * `{:supervisor_restart, %{supervisor: s, child: c}}` for supervisor reports whose context is
      `child_terminated` or `start_error`;
    * `:ignore` otherwise.

  Every error-or-worse event is also counted as a message by the caller.
  """

  alias BeamExporter.Forwarder.{CalledServer, CrashReason, Labels}

  @spec classify(:logger.log_event()) ::
          {:crash, map} | {:supervisor_restart, map} | :ignore
  def classify(%{msg: {:report, %{label: {:proc_lib, :crash}, report: [info | _]}}})
      when is_list(info) do
    {:crash, crash(info[:error_info])}
  end

  def classify(%{msg: {:report, %{label: {:supervisor, context}, report: report}}})
      when context in [:child_terminated, :start_error] and is_list(report) do
    {:supervisor_restart,
     %{supervisor: supervisor_name(report[:supervisor]), child: child_name(report[:offender])}}
  end

  # erlang:spawn'ed processes that raise: the emulator logs `{format, [pid, (node,) reason]}` with
  # "Error in process ~p (on node ~p) with exit value:~n~p~n"; the reason comes last.
  def classify(%{
        meta: %{error_logger: %{emulator: true, tag: :error}},
        msg: {format, [_ | _] = args}
      })
      when is_list(format) do
    {:crash, crash({:error, List.last(args), []})}
  end

  def classify(_event), do: :ignore

  defp crash({class, reason, _stack}),
    do: %{reason: CrashReason.normalize(class, reason), server: CalledServer.of_reason(reason)}

  defp crash(_), do: %{reason: "other", server: ""}

  # `{:local, name}`, `{:global, name}`, `{:via, mod, name}`, or `{pid, module}` when unnamed.
  defp supervisor_name({:local, name}), do: Labels.module_name(name)
  defp supervisor_name({:global, name}) when is_atom(name), do: Labels.module_name(name)

  defp supervisor_name({pid, module}) when is_pid(pid) and is_atom(module),
    do: Labels.module_name(module)

  defp supervisor_name(name) when is_atom(name), do: Labels.module_name(name)
  defp supervisor_name(_), do: Labels.unknown()

  # The child id when it names something; DynamicSupervisor children have id :undefined, so
  # fall back to the module they start.
  defp child_name(offender) when is_list(offender) do
    case offender[:id] do
      id when is_atom(id) and id not in [nil, :undefined] -> Labels.module_name(id)
      id when is_binary(id) and byte_size(id) <= 64 -> id
      _ -> child_module(offender[:mfargs] || offender[:mfa])
    end
  end

  defp child_name(_), do: Labels.unknown()

  defp child_module({module, _f, _a}) when is_atom(module), do: Labels.module_name(module)
  defp child_module(_), do: Labels.unknown()
end
