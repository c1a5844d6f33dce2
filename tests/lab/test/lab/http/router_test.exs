defmodule Lab.Http.RouterTest do
  use ExUnit.Case, async: true

  import Lab.Http.Router, only: [match: 2]

  test "routes carry templates, never raw ids" do
    assert match("GET", "/users/42") == {"/users/:id", :user, %{"id" => "42"}}
    assert match("GET", "/") == {"/", :home, %{}}

    assert match("POST", "/faults/overload/on") ==
             {"/faults/:name/:state", :switch_fault, %{"name" => "overload", "state" => "on"}}

    assert match("GET", "/live/websocket") == {"/live/websocket", :websocket, %{}}
  end

  test "anything else is unmatched" do
    assert match("GET", "/users/42/secret") == {"unmatched", :not_found, %{}}
    assert match("DELETE", "/users/42") == {"unmatched", :not_found, %{}}
    assert match("POST", "/faults/overload/maybe") == {"unmatched", :not_found, %{}}
  end
end
