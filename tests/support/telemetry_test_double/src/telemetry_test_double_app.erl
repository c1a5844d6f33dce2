%% Test-only: the application callback of the :telemetry test double (see ../README.md).
-module(telemetry_test_double_app).
-behaviour(application).

-export([start/2, stop/1]).

start(_Type, _Args) ->
    telemetry_test_double_handler_table:start_link().

stop(_State) ->
    ok.
