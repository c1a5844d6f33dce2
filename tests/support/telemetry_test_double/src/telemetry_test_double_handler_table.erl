%% Test-only: owns the handler table of the :telemetry test double (see ../README.md).
%%
%% Handlers live in a public bag keyed by event name, read directly by the executing process;
%% attach and detach go through this server so that "already exists" checks and the persisted
%% copy never race. After persist/0, every change also rewrites the persistent_term copy of the
%% events it touched.
-module(telemetry_test_double_handler_table).
-behaviour(gen_server).

-export([start_link/0, attach/4, detach/1, handlers_for/1, all/0, persist/0]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(TABLE, telemetry_test_double_handlers).
-define(PERSISTED, {?MODULE, persisted}).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% Handler = {Id, EventName, Function, Config}
attach(Id, EventNames, Function, Config) ->
    gen_server:call(?MODULE, {attach, Id, EventNames, Function, Config}).

detach(Id) ->
    gen_server:call(?MODULE, {detach, Id}).

%% The handlers of exactly EventName, in the caller's process.
handlers_for(EventName) ->
    case persistent_term:get(?PERSISTED, false) of
        true -> persistent_term:get({?MODULE, EventName}, []);
        false -> [H || {_, H} <- ets:lookup(?TABLE, EventName)]
    end.

all() ->
    [H || {_, H} <- ets:tab2list(?TABLE)].

persist() ->
    gen_server:call(?MODULE, persist).

init([]) ->
    ets:new(?TABLE, [bag, named_table, protected, {read_concurrency, true}]),
    {ok, #{}}.

handle_call({attach, Id, EventNames, Function, Config}, _From, State) ->
    case ets:match_object(?TABLE, {'_', {Id, '_', '_', '_'}}) of
        [_ | _] ->
            {reply, {error, already_exists}, State};
        [] ->
            ets:insert(?TABLE, [{E, {Id, E, Function, Config}} || E <- EventNames]),
            republish(EventNames),
            {reply, ok, State}
    end;
handle_call({detach, Id}, _From, State) ->
    case ets:match_object(?TABLE, {'_', {Id, '_', '_', '_'}}) of
        [] ->
            {reply, {error, not_found}, State};
        Entries ->
            [ets:delete_object(?TABLE, Entry) || Entry <- Entries],
            republish([E || {E, _} <- Entries]),
            {reply, ok, State}
    end;
handle_call(persist, _From, State) ->
    persistent_term:put(?PERSISTED, true),
    republish(lists:usort([E || {E, _} <- ets:tab2list(?TABLE)])),
    {reply, ok, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

republish(EventNames) ->
    case persistent_term:get(?PERSISTED, false) of
        true ->
            [persistent_term:put({?MODULE, E}, [H || {_, H} <- ets:lookup(?TABLE, E)])
             || E <- lists:usort(EventNames)],
            ok;
        false ->
            ok
    end.
