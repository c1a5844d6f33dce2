defmodule Lab.Http.Connection do
  @moduledoc """
  Serves one HTTP request the way a Phoenix 1.7 endpoint instruments it (the shapes are checked
  against the recording of a real Phoenix app, test/lab/event_shape_test.exs): a
  `[:phoenix, :endpoint]` span with a Plug.Conn-shaped `conn` (method, status, request path; the
  route is not on the conn), a `[:phoenix, :router_dispatch]` span with the route template, an
  Ecto-shaped `[:lab, :repo, :query]` event for the pages that "query the database". A
  controller that raises ends the router span with `[:phoenix, :router_dispatch, :exception]`
  (the conn from before the controller ran, the exception wrapped as Plug does) and the endpoint
  answers 500. An unknown path has no router events, as with Phoenix's NoRouteError.

  A connection process never crashes (that would count as an application crash in the lab).
  """

  alias Lab.Http.{Router, WsSession}

  @recv_timeout 5_000

  def serve(socket) do
    with {:ok, method, path} <- read_request_line(socket),
         {:ok, headers} <- read_headers(socket, %{}) do
      handle(socket, method, path, headers)
    end
  catch
    _, _ -> :ok
  after
    :gen_tcp.close(socket)
  end

  defp handle(socket, method, path, headers) do
    {route, action, params} = Router.match(method, path)

    conn = %{
      method: method,
      request_path: path,
      host: headers["host"],
      status: nil,
      params: params,
      private: %{phoenix_endpoint: Lab.Endpoint}
    }

    if action == :websocket do
      WsSession.run(socket, headers)
    else
      # Plug.Telemetry's events, not a :telemetry.span: start with system_time, stop with duration.
      start = System.monotonic_time()

      :telemetry.execute([:phoenix, :endpoint, :start], %{system_time: System.system_time()}, %{
        conn: conn,
        options: []
      })

      {status, body} = dispatch(action, route, conn)
      respond(socket, status, body)

      :telemetry.execute(
        [:phoenix, :endpoint, :stop],
        %{duration: System.monotonic_time() - start},
        %{
          conn: %{conn | status: status},
          options: []
        }
      )
    end
  end

  defp dispatch(:not_found, _route, _conn), do: {404, "not found\n"}

  defp dispatch(action, route, conn) do
    meta = %{conn: conn, route: route, plug: Lab.PageController, plug_opts: action}
    start = System.monotonic_time()

    :telemetry.execute(
      [:phoenix, :router_dispatch, :start],
      %{system_time: System.system_time()},
      meta
    )

    try do
      action(action, conn)
    catch
      kind, reason ->
        stacktrace = __STACKTRACE__
        now = System.monotonic_time()

        :telemetry.execute(
          [:phoenix, :router_dispatch, :exception],
          %{duration: now - start},
          Map.merge(meta, %{
            kind: kind,
            reason: wrap(kind, reason, conn, stacktrace),
            stacktrace: stacktrace
          })
        )

        {500, "internal server error\n"}
    else
      {status, _body} = result ->
        now = System.monotonic_time()

        stop_conn = %{
          conn
          | status: status,
            private:
              Map.merge(conn.private, %{
                phoenix_router: Lab.Http.Router,
                phoenix_controller: Lab.PageController,
                phoenix_action: action
              })
        }

        :telemetry.execute([:phoenix, :router_dispatch, :stop], %{duration: now - start}, %{
          meta
          | conn: stop_conn
        })

        result
    end
  end

  # Plug.Conn.WrapperError as Plug builds it around what a plug raised (a plain map with its
  # fields: the lab has no Plug).
  defp wrap(:error, exception, conn, stacktrace),
    do: %{
      __struct__: Plug.Conn.WrapperError,
      __exception__: true,
      conn: conn,
      kind: :error,
      reason: exception,
      stack: stacktrace
    }

  defp wrap(_kind, reason, _conn, _stacktrace), do: reason

  defp action(:home, _conn), do: {200, "beam lab\n"}
  defp action(:health, _conn), do: {200, "ok\n"}

  defp action(:user, conn) do
    if Lab.Faults.on?(:controller_raise),
      do: raise("lab fault controller_raise: user lookup failed")

    case query_user(conn.params["id"]) do
      [] -> {404, "no such user\n"}
      [{_, name}] -> {200, name <> "\n"}
    end
  end

  defp action(:slow, _conn) do
    Lab.SlowServer.work()
    {200, "done\n"}
  catch
    :exit, _ -> {504, "timeout\n"}
  end

  defp action(:faults, _conn) do
    {200,
     Enum.map_join(Lab.Faults.list(), fn {name, on?} ->
       "#{name} #{if on?, do: "on", else: "off"}\n"
     end)}
  end

  defp action(:switch_fault, %{params: %{"name" => name, "state" => state}}) do
    case Lab.Faults.set(name, state == "on") do
      :ok ->
        {200, "#{name} #{state}\n"}

      {:error, :unknown_fault} ->
        {404, "unknown fault #{name}; known: #{Enum.join(Lab.Faults.names(), ", ")}\n"}
    end
  end

  # An Ecto-shaped query event (Ecto.Repo's documented measurements and metadata).
  defp query_user(id) do
    start = System.monotonic_time()

    key =
      case Integer.parse(id || "") do
        {n, ""} -> {:user, n}
        _ -> :none
      end

    rows = :ets.lookup(:lab_cache, key)
    query_time = System.monotonic_time() - start
    queue_time = System.convert_time_unit(:rand.uniform(500), :microsecond, :native)

    :telemetry.execute(
      [:lab, :repo, :query],
      %{
        query_time: query_time,
        queue_time: queue_time,
        decode_time: 0,
        total_time: query_time + queue_time
      },
      %{
        type: :ecto_sql_query,
        repo: Lab.Repo,
        source: "users",
        query: "SELECT u0.name FROM users AS u0 WHERE (u0.id = $1)",
        params: [id],
        result: {:ok, %{command: :select, num_rows: length(rows)}}
      }
    )

    rows
  end

  defp read_request_line(socket) do
    case :gen_tcp.recv(socket, 0, @recv_timeout) do
      {:ok, {:http_request, method, {:abs_path, path}, _version}} ->
        {:ok, to_string(method), path |> String.split("?") |> hd()}

      _ ->
        :error
    end
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0, @recv_timeout) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, Map.put(acc, String.downcase(to_string(name)), value))

      {:ok, :http_eoh} ->
        {:ok, acc}

      _ ->
        :error
    end
  end

  defp respond(socket, status, body) do
    :gen_tcp.send(socket, [
      "HTTP/1.1 #{status} #{reason(status)}\r\ncontent-type: text/plain\r\ncontent-length: #{byte_size(body)}\r\nconnection: close\r\n\r\n",
      body
    ])
  end

  defp reason(200), do: "OK"
  defp reason(404), do: "Not Found"
  defp reason(500), do: "Internal Server Error"
  defp reason(504), do: "Gateway Timeout"
  defp reason(_), do: "Status"
end
