defmodule BeamExporter.Forwarder.PresetsTest do
  use ExUnit.Case, async: true

  alias BeamExporter.Forwarder.Presets

  # A Plug.Conn-shaped map: the fields the extractors read plus the ones they must not forward.
  defp conn(private) do
    %{
      method: "GET",
      status: 200,
      request_path: "/users/42",
      params: %{"id" => "42"},
      host: "evil.example",
      private: private
    }
  end

  defp extractor(preset, event, prefixes \\ []) do
    %{extract: extract} = Enum.find(Presets.specs(preset, prefixes), &(&1.event == event))
    extract
  end

  test "the phoenix preset counts Bandit's WebSocket starts and stops and forwards no metadata" do
    specs = Presets.specs(:phoenix, [])

    for event <- [[:bandit, :websocket, :start], [:bandit, :websocket, :stop]] do
      assert %{counted: true, extract: extract} = Enum.find(specs, &(&1.event == event))
      assert extract.(%{telemetry_span_context: make_ref(), conn: conn(%{})}) == %{}
    end
  end

  test "endpoint stop keeps method and status, never the raw path (endpoint events carry no route)" do
    extract = extractor(:phoenix, [:phoenix, :endpoint, :stop])

    assert extract.(%{conn: conn(%{phoenix_router: MyAppWeb.Router}), options: []}) == %{
             method: "GET",
             status: 200
           }
  end

  test "router dispatch uses the :route metadata and names controller and action" do
    extract = extractor(:phoenix, [:phoenix, :router_dispatch, :stop])

    meta = %{
      conn: conn(%{}),
      route: "/users/:id",
      plug: MyAppWeb.UserController,
      plug_opts: :show,
      path_params: %{"id" => "42"}
    }

    assert extract.(meta) == %{
             method: "GET",
             status: 200,
             route: "/users/:id",
             plug: "MyAppWeb.UserController",
             plug_opts: "show"
           }
  end

  # As in the recording of a real Phoenix 1.7 app: the conn from before the controller ran
  # (status nil), the route, and a raise wrapped in Plug.Conn.WrapperError.
  defp exception_meta(kind, reason) do
    %{
      conn: %{conn(%{}) | status: nil},
      route: "/boom",
      kind: kind,
      reason: reason,
      stacktrace: []
    }
  end

  test "router dispatch exception: the status Phoenix answers, the unwrapped exception module, never its message" do
    extract = extractor(:phoenix, [:phoenix, :router_dispatch, :exception])

    wrapped = %{
      __struct__: Plug.Conn.WrapperError,
      __exception__: true,
      conn: %{},
      kind: :error,
      reason: %RuntimeError{message: "user 42 secret"},
      stack: []
    }

    assert extract.(exception_meta(:error, wrapped)) == %{
             method: "GET",
             status: 500,
             route: "/boom",
             kind: "error",
             reason: "RuntimeError"
           }

    # A GenServer.call timeout exits; Phoenix answers 500.
    timeout = {:timeout, {GenServer, :call, [MyApp.SlowServer, {:work, 300}, 100]}}

    assert %{status: 500, kind: "exit", reason: "timeout"} =
             extract.(exception_meta(:exit, timeout))

    # An exception with a plug_status (e.g. Ecto.NoResultsError -> 404) is answered with it.
    not_found = %{
      __struct__: Ecto.NoResultsError,
      __exception__: true,
      plug_status: 404,
      message: "x"
    }

    assert %{status: 404, reason: "Ecto.NoResultsError"} =
             extract.(exception_meta(:error, not_found))
  end

  test "live component handle_event names the view, the component and the event" do
    extract = extractor(:live_view, [:phoenix, :live_component, :handle_event, :stop])

    meta = %{
      socket: %{view: MyAppWeb.CounterLive},
      component: MyAppWeb.NoteComponent,
      event: "save",
      params: %{"note" => "secret"}
    }

    assert extract.(meta) == %{
             view: "MyAppWeb.CounterLive",
             component: "MyAppWeb.NoteComponent",
             event: "save"
           }
  end

  test "socket connected, channel joined and handled_in keep endpoint, transport, handler, result/event" do
    socket = %{
      endpoint: MyAppWeb.Endpoint,
      channel: MyAppWeb.RoomChannel,
      handler: MyAppWeb.UserSocket,
      transport: :websocket,
      topic: "room:42"
    }

    assert extractor(:phoenix, [:phoenix, :socket_connected]).(%{
             endpoint: MyAppWeb.Endpoint,
             transport: :websocket,
             user_socket: MyAppWeb.UserSocket,
             result: :ok,
             params: %{"token" => "t"},
             connect_info: %{}
           }) == %{
             endpoint: "MyAppWeb.Endpoint",
             transport: "websocket",
             user_socket: "MyAppWeb.UserSocket",
             result: "ok"
           }

    assert extractor(:phoenix, [:phoenix, :channel_joined]).(%{
             result: :error,
             params: %{},
             socket: socket
           }) ==
             %{
               endpoint: "MyAppWeb.Endpoint",
               channel: "MyAppWeb.RoomChannel",
               handler: "MyAppWeb.UserSocket",
               transport: "websocket",
               result: "error"
             }

    assert extractor(:phoenix, [:phoenix, :channel_handled_in]).(%{
             event: "new_msg",
             params: %{},
             socket: socket
           }) ==
             %{
               endpoint: "MyAppWeb.Endpoint",
               channel: "MyAppWeb.RoomChannel",
               handler: "MyAppWeb.UserSocket",
               transport: "websocket",
               event: "new_msg"
             }
  end

  test "the phoenix preset forwards socket disconnects" do
    extract = extractor(:phoenix, [:beam_exporter, :socket, :disconnect])

    assert extract.(%{transport: :websocket, reason: :idle_timeout}) == %{
             transport: "websocket",
             reason: "idle_timeout"
           }
  end

  test "live view events keep view, live_action, connected, event and exception kind/reason" do
    specs = Presets.specs(:live_view, [])
    # 4 stages x stop/exception, and a live component's handle_event stop/exception.
    assert length(specs) == 10
    assert Enum.count(specs, & &1.counted) == 5

    socket = %{
      view: MyAppWeb.ThermostatLive,
      assigns: %{live_action: :index, user: "secret"},
      transport_pid: self()
    }

    extract = extractor(:live_view, [:phoenix, :live_view, :handle_event, :stop])

    assert extract.(%{socket: socket, event: "inc", params: %{"v" => "1"}}) ==
             %{view: "MyAppWeb.ThermostatLive", action: "index", connected: true, event: "inc"}

    exc = extractor(:live_view, [:phoenix, :live_view, :mount, :exception])

    assert exc.(%{
             socket: %{socket | transport_pid: nil},
             params: %{},
             session: %{},
             uri: "/t?x=1",
             kind: :error,
             reason: %KeyError{}
           }) ==
             %{
               view: "MyAppWeb.ThermostatLive",
               action: "index",
               connected: false,
               kind: "error",
               reason: "KeyError"
             }
  end

  test "ecto query events use the configured prefixes and keep repo, source, command, result" do
    extract = extractor(:ecto, [:my_app, :repo, :query], [[:my_app, :repo]])

    meta = %{
      repo: MyApp.Repo,
      source: "users",
      result: {:ok, %{command: :select, num_rows: 3}},
      query: "SELECT * FROM users WHERE id = $1",
      params: [42]
    }

    assert extract.(meta) == %{
             repo: "MyApp.Repo",
             source: "users",
             command: "select",
             result: "ok"
           }

    assert extract.(%{repo: MyApp.Repo, source: nil, result: {:error, :boom}}) == %{
             repo: "MyApp.Repo",
             source: "unknown",
             command: "unknown",
             result: "error"
           }

    assert Presets.specs(:ecto, []) == []
  end

  test "oban job events keep queue, worker, state and exception kind" do
    stop = extractor(:oban, [:oban, :job, :stop])

    assert stop.(%{
             queue: "mailers",
             worker: "MyApp.Mailer",
             state: :success,
             job: %{args: %{"to" => "x@y"}}
           }) ==
             %{queue: "mailers", worker: "MyApp.Mailer", state: "success"}

    exc = extractor(:oban, [:oban, :job, :exception])

    assert exc.(%{
             job: %{queue: "default", worker: "W"},
             state: :failure,
             kind: :error,
             reason: %RuntimeError{}
           }) ==
             %{
               queue: "default",
               worker: "W",
               state: "failure",
               kind: "error",
               reason: "RuntimeError"
             }
  end

  test "extractors tolerate missing metadata" do
    for preset <- Presets.names(), %{extract: extract} <- Presets.specs(preset, [[:r]]) do
      assert is_map(extract.(%{}))
    end
  end

  test "an unknown preset is rejected" do
    assert_raise ArgumentError, ~r/unknown preset :nope/, fn -> Presets.specs(:nope, []) end
  end
end
