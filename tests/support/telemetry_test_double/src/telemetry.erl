%% Test-only: the public API of the `telemetry` library, implemented from its documentation for
%% beam_exporter's tests (Hex is not reachable here). Never shipped; see ../README.md.
-module(telemetry).

-export([attach/4, attach_many/4, detach/1, execute/3, span/3, list_handlers/1, persist/0]).

-include_lib("kernel/include/logger.hrl").

attach(HandlerId, EventName, Function, Config) ->
    attach_many(HandlerId, [EventName], Function, Config).

attach_many(HandlerId, EventNames, Function, Config)
  when is_list(EventNames), is_function(Function, 4) ->
    [check_event_name(E) || E <- EventNames],
    warn_if_local(HandlerId, Function),
    telemetry_test_double_handler_table:attach(HandlerId, EventNames, Function, Config).

detach(HandlerId) ->
    telemetry_test_double_handler_table:detach(HandlerId).

execute(EventName, Value, Metadata) when is_number(Value) ->
    %% Deprecated upstream: a bare number is the measurement `value`.
    execute(EventName, #{value => Value}, Metadata);
execute(EventName, Measurements, Metadata) when is_map(Measurements), is_map(Metadata) ->
    Handlers = telemetry_test_double_handler_table:handlers_for(EventName),
    lists:foreach(fun(H) -> call_handler(H, EventName, Measurements, Metadata) end, Handlers).

span(EventPrefix, StartMetadata0, SpanFunction) ->
    StartTime = erlang:monotonic_time(),
    StartMetadata = add_span_context(StartMetadata0),
    execute(EventPrefix ++ [start],
            #{monotonic_time => StartTime, system_time => erlang:system_time()}, StartMetadata),
    try SpanFunction() of
        {Result, StopMetadata} ->
            stop(EventPrefix, StartTime, #{}, StopMetadata, StartMetadata),
            Result;
        {Result, ExtraMeasurements, StopMetadata} ->
            stop(EventPrefix, StartTime, ExtraMeasurements, StopMetadata, StartMetadata),
            Result
    catch
        Class:Reason:Stacktrace ->
            StopTime = erlang:monotonic_time(),
            execute(EventPrefix ++ [exception],
                    #{duration => StopTime - StartTime, monotonic_time => StopTime},
                    StartMetadata#{kind => Class, reason => Reason, stacktrace => Stacktrace}),
            erlang:raise(Class, Reason, Stacktrace)
    end.

list_handlers(EventPrefix) ->
    Length = length(EventPrefix),
    [#{id => Id, event_name => E, function => F, config => C}
     || {Id, E, F, C} <- telemetry_test_double_handler_table:all(),
        lists:sublist(E, Length) =:= EventPrefix].

persist() ->
    telemetry_test_double_handler_table:persist().

%% --- internals -------------------------------------------------------------------------------

stop(EventPrefix, StartTime, ExtraMeasurements, StopMetadata0, StartMetadata) ->
    StopTime = erlang:monotonic_time(),
    StopMetadata = StopMetadata0#{telemetry_span_context => maps:get(telemetry_span_context, StartMetadata)},
    execute(EventPrefix ++ [stop],
            ExtraMeasurements#{duration => StopTime - StartTime, monotonic_time => StopTime},
            StopMetadata).

add_span_context(#{telemetry_span_context := _} = Metadata) -> Metadata;
add_span_context(Metadata) -> Metadata#{telemetry_span_context => make_ref()}.

call_handler({HandlerId, _, Function, Config} = Handler, EventName, Measurements, Metadata) ->
    try
        Function(EventName, Measurements, Metadata, Config)
    catch
        Class:Reason:Stacktrace ->
            %% Documented upstream: a failing handler is detached (from all its events), logged,
            %% and reported as a [telemetry, handler, failure] event.
            _ = detach(HandlerId),
            ?LOG_WARNING("Handler ~p has failed and has been detached. Class=~p~nReason=~p~nStacktrace=~p",
                         [HandlerId, Class, Reason, Stacktrace]),
            report_failure(Handler, EventName, Class, Reason, Stacktrace)
    end.

report_failure({HandlerId, _, _, Config}, EventName, Class, Reason, Stacktrace) ->
    execute([telemetry, handler, failure],
            #{monotonic_time => erlang:monotonic_time(), system_time => erlang:system_time()},
            #{event_name => EventName, handler_id => HandlerId, handler_config => Config,
              kind => Class, reason => Reason, stacktrace => Stacktrace}).

check_event_name(EventName) when is_list(EventName) ->
    lists:all(fun is_atom/1, EventName) orelse erlang:error(badarg, [EventName]);
check_event_name(EventName) ->
    erlang:error(badarg, [EventName]).

%% Documented upstream: local (anonymous) functions as handlers are slower than remote captures
%% and are reported at info level.
warn_if_local(HandlerId, Function) ->
    case erlang:fun_info(Function, type) of
        {type, local} ->
            ?LOG_INFO("The function passed as a handler with ID ~p is a local function. "
                      "Prefer a function capture of a module's exported function.", [HandlerId]);
        {type, external} ->
            ok
    end.
