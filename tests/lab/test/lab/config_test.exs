defmodule Lab.ConfigTest do
  use ExUnit.Case, async: true

  test "LAB_DATABASE_URL is required" do
    assert_raise ArgumentError, "LAB_DATABASE_URL is required but not set", fn ->
      Lab.Config.from_env(%{})
    end
  end

  test "defaults and overrides" do
    config = Lab.Config.from_env(%{"LAB_DATABASE_URL" => "ecto://x", "LAB_HTTP_PORT" => "4100"})

    assert %Lab.Config{
             http_port: 4100,
             telemetry_port: 8125,
             ws_clients: 20,
             traffic: 20,
             halt_after_s: nil
           } = config

    assert Lab.Config.from_env(%{"LAB_DATABASE_URL" => "x", "LAB_HALT_AFTER_S" => "30"}).halt_after_s ==
             30
  end

  test "a malformed number is rejected with its name" do
    assert_raise ArgumentError, ~r/LAB_WS_CLIENTS must be a non-negative integer/, fn ->
      Lab.Config.from_env(%{"LAB_DATABASE_URL" => "x", "LAB_WS_CLIENTS" => "many"})
    end
  end
end
