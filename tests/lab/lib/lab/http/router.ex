defmodule Lab.Http.Router do
  @moduledoc """
  Maps a request to a route template and an action (pure). Templates are what the telemetry
  carries (`/users/:id`), like Phoenix's router.
  """

  @doc "`{route_template, action, params}`; unknown paths give `{\"unmatched\", :not_found, %{}}`."
  def match(method, path) do
    case {method, String.split(path, "/", trim: true)} do
      {"GET", []} ->
        {"/", :home, %{}}

      {"GET", ["users", id]} ->
        {"/users/:id", :user, %{"id" => id}}

      {"GET", ["slow"]} ->
        {"/slow", :slow, %{}}

      {"GET", ["healthz"]} ->
        {"/healthz", :health, %{}}

      {"GET", ["faults"]} ->
        {"/faults", :faults, %{}}

      {"POST", ["faults", name, state]} when state in ["on", "off"] ->
        {"/faults/:name/:state", :switch_fault, %{"name" => name, "state" => state}}

      {"GET", ["live", "websocket"]} ->
        {"/live/websocket", :websocket, %{}}

      _ ->
        {"unmatched", :not_found, %{}}
    end
  end
end
