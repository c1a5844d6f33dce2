defmodule BeamExporter.Forwarder.Presets do
  @moduledoc """
  Ready-made event lists and metadata extractors for Phoenix, LiveView, Ecto, Oban and the
  forwarder's own logger events, written against the metadata documented by each library
  (plain maps with the same shape work, so nothing here depends on those libraries).

  An extractor takes the event's metadata and returns only low-cardinality fields: route
  templates, module names, methods, statuses, results; never raw paths, params, SQL or pids.
  """

  alias BeamExporter.Forwarder.Labels

  @type spec :: %{event: [atom], extract: (map -> map), counted: boolean}

  @names [:phoenix, :live_view, :ecto, :oban, :logger]
  @live_view_stages [:mount, :handle_params, :handle_event, :render]

  @doc "The preset names accepted by the `presets:` option."
  def names, do: @names

  @doc "The specs of a preset. `repo_prefixes` are Ecto telemetry prefixes, e.g. `[[:my_app, :repo]]`."
  @spec specs(atom, [[atom]]) :: [spec]
  def specs(:phoenix, _repo_prefixes) do
    [
      spec([:phoenix, :endpoint, :stop], &__MODULE__.phoenix_endpoint/1),
      spec([:phoenix, :router_dispatch, :stop], &__MODULE__.phoenix_router_dispatch/1),
      spec(
        [:phoenix, :router_dispatch, :exception],
        &__MODULE__.phoenix_router_exception/1,
        true
      ),
      spec([:phoenix, :socket_connected], &__MODULE__.phoenix_socket_connected/1, true),
      spec([:phoenix, :channel_joined], &__MODULE__.phoenix_channel_joined/1, true),
      spec([:phoenix, :channel_handled_in], &__MODULE__.phoenix_channel_handled_in/1),
      spec([:beam_exporter, :socket, :disconnect], &__MODULE__.socket_disconnect/1, true),
      # Bandit (Phoenix's default server since 1.7.11) runs WebSocket and HTTP connections in the
      # same kind of process, so only its own events count WebSockets (docs/metrics.md).
      spec([:bandit, :websocket, :start], &__MODULE__.no_metadata/1, true),
      spec([:bandit, :websocket, :stop], &__MODULE__.no_metadata/1, true)
    ]
  end

  def specs(:live_view, _repo_prefixes) do
    views =
      for stage <- @live_view_stages, outcome <- [:stop, :exception] do
        spec(
          [:phoenix, :live_view, stage, outcome],
          &__MODULE__.live_view/1,
          outcome == :exception
        )
      end

    components =
      for outcome <- [:stop, :exception] do
        spec(
          [:phoenix, :live_component, :handle_event, outcome],
          &__MODULE__.live_component/1,
          outcome == :exception
        )
      end

    views ++ components
  end

  def specs(:ecto, repo_prefixes) do
    for prefix <- repo_prefixes, do: spec(prefix ++ [:query], &__MODULE__.ecto_query/1)
  end

  def specs(:oban, _repo_prefixes) do
    [
      spec([:oban, :job, :stop], &__MODULE__.oban_job/1),
      spec([:oban, :job, :exception], &__MODULE__.oban_job/1, true)
    ]
  end

  def specs(:logger, _repo_prefixes) do
    [
      spec([:beam_exporter, :logger, :crash], &__MODULE__.passthrough/1, true),
      spec([:beam_exporter, :logger, :supervisor_restart], &__MODULE__.passthrough/1, true),
      spec([:beam_exporter, :logger, :message], &__MODULE__.passthrough/1, true)
    ]
  end

  def specs(other, _repo_prefixes),
    do: raise(ArgumentError, "unknown preset #{inspect(other)}; known: #{inspect(@names)}")

  defp spec(event, extract, counted \\ false),
    do: %{event: event, extract: extract, counted: counted}

  # --- Phoenix (Plug.Telemetry endpoint events, router, socket, channel) -----------------------

  # Endpoint events carry no route: Phoenix keeps the route pattern only in the `:route` metadata
  # of its router_dispatch events (checked in the recording of a real Phoenix 1.7 app).
  @doc false
  def phoenix_endpoint(meta), do: conn_fields(meta[:conn])

  @doc false
  def phoenix_router_dispatch(meta) do
    meta[:conn]
    |> conn_fields()
    |> Map.merge(%{
      route: route_of(meta),
      plug: Labels.module_name(meta[:plug]),
      plug_opts: Labels.name(meta[:plug_opts])
    })
  end

  # The conn of an exception event is the one from before the controller ran (status nil); the
  # status is the one Phoenix answers with: the exception's `plug_status`, else 500.
  @doc false
  def phoenix_router_exception(meta) do
    kind = meta[:kind]
    reason = unwrap(meta[:reason])

    meta[:conn]
    |> conn_fields()
    |> Map.merge(%{
      route: route_of(meta),
      status: answered_status(kind, reason),
      kind: Labels.name(kind),
      reason: Labels.exception_name(reason)
    })
  end

  # Plug wraps what a plug raised, with the conn, in Plug.Conn.WrapperError.
  defp unwrap(%{__struct__: Plug.Conn.WrapperError, reason: reason}), do: reason
  defp unwrap(reason), do: reason

  defp answered_status(:error, %{__exception__: true, plug_status: status})
       when is_integer(status),
       do: status

  defp answered_status(_kind, _reason), do: 500

  @doc false
  def phoenix_socket_connected(meta) do
    %{
      endpoint: Labels.module_name(meta[:endpoint]),
      transport: Labels.name(meta[:transport]),
      user_socket: Labels.module_name(meta[:user_socket]),
      result: Labels.name(meta[:result])
    }
  end

  @doc false
  def phoenix_channel_joined(meta) do
    meta |> socket_fields() |> Map.put(:result, Labels.name(meta[:result]))
  end

  @doc false
  def phoenix_channel_handled_in(meta) do
    meta |> socket_fields() |> Map.put(:event, Labels.name(meta[:event]))
  end

  @doc false
  def socket_disconnect(meta) do
    %{transport: Labels.name(meta[:transport]), reason: Labels.name(meta[:reason])}
  end

  defp conn_fields(conn) when is_map(conn) do
    %{method: Labels.name(Map.get(conn, :method)), status: status(Map.get(conn, :status))}
  end

  defp conn_fields(_), do: %{method: Labels.unknown(), status: 0}

  defp status(status) when is_integer(status), do: status
  defp status(_), do: 0

  # The route pattern (`/users/:id`), never the raw request path.
  defp route_of(%{route: route}) when is_binary(route), do: route
  defp route_of(_meta), do: Labels.unknown()

  defp socket_fields(meta) do
    socket = meta[:socket] || %{}

    # Phoenix.Socket: `channel` is the channel module, `handler` the socket (UserSocket) module;
    # never the topic ("room:42"), which is per-instance.
    %{
      endpoint: Labels.module_name(Map.get(socket, :endpoint)),
      channel: Labels.module_name(Map.get(socket, :channel)),
      handler: Labels.module_name(Map.get(socket, :handler)),
      transport: Labels.name(Map.get(socket, :transport))
    }
  end

  # --- LiveView -----------------------------------------------------------------------------

  @doc false
  def live_view(meta) do
    socket = meta[:socket] || %{}
    assigns = Map.get(socket, :assigns) || %{}

    base = %{
      view: Labels.module_name(Map.get(socket, :view)),
      action: Labels.name(Map.get(assigns, :live_action)),
      connected: Map.get(socket, :transport_pid) != nil
    }

    base
    |> put_if(Map.has_key?(meta, :event), :event, Labels.name(meta[:event]))
    |> put_exception(meta)
  end

  # A live component's handle_event runs in its LiveView's process; `component` is its module.
  @doc false
  def live_component(meta) do
    socket = meta[:socket] || %{}

    %{
      view: Labels.module_name(Map.get(socket, :view)),
      component: Labels.module_name(meta[:component]),
      event: Labels.name(meta[:event])
    }
    |> put_exception(meta)
  end

  # --- Ecto ---------------------------------------------------------------------------------

  @doc false
  def ecto_query(meta) do
    {result, command} =
      case meta[:result] do
        {:ok, %{command: command}} -> {"ok", Labels.name(command)}
        {:ok, _} -> {"ok", Labels.unknown()}
        {:error, _} -> {"error", Labels.unknown()}
        _ -> {Labels.unknown(), Labels.unknown()}
      end

    %{
      repo: Labels.module_name(meta[:repo]),
      source: Labels.name(meta[:source]),
      command: command,
      result: result
    }
  end

  # --- Oban ---------------------------------------------------------------------------------

  @doc false
  def oban_job(meta) do
    job = meta[:job] || %{}

    fields = %{
      queue: Labels.name(meta[:queue] || Map.get(job, :queue)),
      worker: Labels.name(meta[:worker] || Map.get(job, :worker)),
      state: Labels.name(meta[:state])
    }

    fields
    |> put_exception(meta)
  end

  # --- Events already emitted with low-cardinality metadata (the logger handler's) -----------

  @doc false
  def no_metadata(_meta), do: %{}

  @doc false
  def passthrough(meta),
    do: for({k, v} <- meta, is_atom(k), Labels.scalar?(v), into: %{}, do: {k, v})

  defp put_if(map, true, key, value), do: Map.put(map, key, value)
  defp put_if(map, false, _key, _value), do: map

  # An :exception event's kind and reason (the exception module), for any preset.
  defp put_exception(fields, meta) do
    fields
    |> put_if(Map.has_key?(meta, :kind), :kind, Labels.name(meta[:kind]))
    |> put_if(Map.has_key?(meta, :reason), :reason, Labels.exception_name(meta[:reason]))
  end
end
