%% EUnit tests of the :telemetry test double: each documented behaviour it claims (../README.md).
-module(telemetry_test_double_tests).
-include_lib("eunit/include/eunit.hrl").

-export([forward/4, log/2]).

setup() ->
    {ok, Started} = application:ensure_all_started(telemetry),
    Started.

cleanup(Started) ->
    [application:stop(A) || A <- lists:reverse(Started)],
    persistent_term:erase({telemetry_test_double_handler_table, persisted}).

double_test_() ->
    {foreach, fun setup/0, fun cleanup/1,
     [fun attach_twice_is_already_exists/0,
      fun detach_unknown_is_not_found/0,
      fun execute_calls_handlers_of_exactly_that_event/0,
      fun a_number_becomes_the_value_measurement/0,
      fun attach_many_handler_sees_every_event_and_detaches_from_all/0,
      fun a_raising_handler_is_detached_logged_and_reported/0,
      fun span_emits_start_and_stop_with_one_context/0,
      fun span_with_extra_measurements_adds_them_to_stop/0,
      fun span_exception_is_reported_and_raised_again/0,
      fun list_handlers_filters_by_prefix/0,
      fun persist_keeps_serving_later_attaches_and_detaches/0]}.

%% A handler that sends each event to the test process.
forward(Event, Measurements, Metadata, Pid) ->
    Pid ! {event, Event, Measurements, Metadata},
    ok.

attach(Id, Event) ->
    telemetry:attach(Id, Event, fun ?MODULE:forward/4, self()).

received() ->
    receive {event, E, M, Meta} -> {E, M, Meta} after 1000 -> timeout end.

nothing_received() ->
    receive {event, _, _, _} = Msg -> {unexpected, Msg} after 50 -> nothing end.

attach_twice_is_already_exists() ->
    ?assertEqual(ok, attach(h1, [a, b])),
    ?assertEqual({error, already_exists}, attach(h1, [a, c])).

detach_unknown_is_not_found() ->
    ?assertEqual({error, not_found}, telemetry:detach(nope)),
    ok = attach(h1, [a]),
    ?assertEqual(ok, telemetry:detach(h1)),
    ?assertEqual({error, not_found}, telemetry:detach(h1)).

execute_calls_handlers_of_exactly_that_event() ->
    ok = attach(h1, [a, b]),
    ok = telemetry:execute([a, b, c], #{x => 1}, #{}),
    ok = telemetry:execute([a], #{x => 1}, #{}),
    ?assertEqual(nothing, nothing_received()),
    ok = telemetry:execute([a, b], #{x => 2}, #{m => 1}),
    ?assertEqual({[a, b], #{x => 2}, #{m => 1}}, received()).

a_number_becomes_the_value_measurement() ->
    ok = attach(h1, [a]),
    telemetry:execute([a], 7, #{}),
    ?assertEqual({[a], #{value => 7}, #{}}, received()).

attach_many_handler_sees_every_event_and_detaches_from_all() ->
    ok = telemetry:attach_many(h1, [[a], [b]], fun ?MODULE:forward/4, self()),
    telemetry:execute([a], #{}, #{}),
    telemetry:execute([b], #{}, #{}),
    ?assertMatch({[a], _, _}, received()),
    ?assertMatch({[b], _, _}, received()),
    ok = telemetry:detach(h1),
    telemetry:execute([a], #{}, #{}),
    telemetry:execute([b], #{}, #{}),
    ?assertEqual(nothing, nothing_received()).

a_raising_handler_is_detached_logged_and_reported() ->
    Self = self(),
    ok = logger:add_handler(double_test_log, ?MODULE, #{config => Self, level => warning}),
    try
        ok = attach(failures, [telemetry, handler, failure]),
        Raising = fun(_, _, _, _) -> erlang:error(boom) end,
        ok = telemetry:attach_many(bad, [[a], [b]], Raising, cfg),
        ok = telemetry:execute([a], #{}, #{}),
        {[telemetry, handler, failure], _, Meta} = received(),
        ?assertMatch(#{event_name := [a], handler_id := bad, handler_config := cfg,
                       kind := error, reason := boom}, Meta),
        receive {logged, warning} -> ok after 1000 -> ?assert(false) end,
        ?assertEqual([], telemetry:list_handlers([a])),
        ?assertEqual([], telemetry:list_handlers([b]))
    after
        logger:remove_handler(double_test_log)
    end.

%% logger handler callback for the test above.
log(#{level := Level}, #{config := Pid}) -> Pid ! {logged, Level}.

span_emits_start_and_stop_with_one_context() ->
    ok = telemetry:attach_many(h1, [[s, start], [s, stop]], fun ?MODULE:forward/4, self()),
    ?assertEqual(result, telemetry:span([s], #{a => 1}, fun() -> {result, #{b => 2}} end)),
    {[s, start], StartM, StartMeta} = received(),
    {[s, stop], StopM, StopMeta} = received(),
    ?assertMatch(#{monotonic_time := _, system_time := _}, StartM),
    ?assertMatch(#{a := 1, telemetry_span_context := _}, StartMeta),
    ?assertMatch(#{duration := D, monotonic_time := _} when is_integer(D) andalso D >= 0, StopM),
    ?assertEqual(maps:get(telemetry_span_context, StartMeta), maps:get(telemetry_span_context, StopMeta)),
    ?assertEqual(2, maps:get(b, StopMeta)).

span_with_extra_measurements_adds_them_to_stop() ->
    ok = attach(h1, [s, stop]),
    ?assertEqual(r, telemetry:span([s], #{}, fun() -> {r, #{rows => 3}, #{}} end)),
    {[s, stop], StopM, _} = received(),
    ?assertMatch(#{rows := 3, duration := _}, StopM).

span_exception_is_reported_and_raised_again() ->
    ok = attach(h1, [s, exception]),
    ?assertError(oops, telemetry:span([s], #{a => 1}, fun() -> erlang:error(oops) end)),
    {[s, exception], M, Meta} = received(),
    ?assertMatch(#{duration := _, monotonic_time := _}, M),
    ?assertMatch(#{a := 1, kind := error, reason := oops, stacktrace := [_ | _],
                   telemetry_span_context := _}, Meta),
    ?assertExit(bye, telemetry:span([s], #{}, fun() -> exit(bye) end)),
    ?assertMatch({[s, exception], _, #{kind := exit, reason := bye}}, received()).

list_handlers_filters_by_prefix() ->
    ok = attach(h1, [a, b]),
    ok = attach(h2, [a, c]),
    ok = attach(h3, [x]),
    Ids = fun(Prefix) -> lists:sort([Id || #{id := Id} <- telemetry:list_handlers(Prefix)]) end,
    ?assertEqual([h1, h2], Ids([a])),
    ?assertEqual([h1], Ids([a, b])),
    ?assertEqual([h1, h2, h3], Ids([])),
    [H] = telemetry:list_handlers([a, b]),
    ?assertMatch(#{event_name := [a, b], config := _, function := F} when is_function(F, 4), H).

persist_keeps_serving_later_attaches_and_detaches() ->
    ok = attach(h1, [a]),
    ok = telemetry:persist(),
    telemetry:execute([a], #{n => 1}, #{}),
    ?assertMatch({[a], #{n := 1}, _}, received()),
    ok = attach(h2, [b]),
    telemetry:execute([b], #{n => 2}, #{}),
    ?assertMatch({[b], #{n := 2}, _}, received()),
    ok = telemetry:detach(h1),
    telemetry:execute([a], #{}, #{}),
    ?assertEqual(nothing, nothing_received()).
