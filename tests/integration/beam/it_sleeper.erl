%% A module only the BEAM integration tests run: processes started from it (plainly and through
%% proc_lib) make a process group whose count nothing else on the node can change. OTP's own
%% processes run `timer` code now and then, so a group on `timer` counted one too many under load.
-module(it_sleeper).
-export([sleep/0, spawn_fun_sleeper/0]).

sleep() ->
    receive stop -> ok end.

%% A process started from a fun of this module with a plain spawn: its initial call is
%% erlang:apply/2, and only the fun tells what it runs.
spawn_fun_sleeper() ->
    spawn(fun() -> receive stop -> ok end end).
