defmodule BeamExporter.Forwarder.HandlerTest do
  # Not async: :telemetry handlers and persistent terms are VM-wide.
  use ExUnit.Case, async: false

  alias BeamExporter.Forwarder.{Buffer, Handler}

  setup context do
    key = {__MODULE__, context.test}

    on_exit(fn ->
      :persistent_term.erase(key)
      Enum.each(:telemetry.list_handlers([__MODULE__]), &:telemetry.detach(&1.id))
    end)

    %{key: key, name: context.test}
  end

  defp put_instance(key, extracts) do
    buffer = Buffer.new(10, self())
    :persistent_term.put(key, %{buffer: buffer, sender: self(), extracts: extracts})
    buffer
  end

  test "the handler config is only the instance key and the spec index (telemetry copies it per event)",
       ctx do
    specs = [%{event: [__MODULE__, :a]}, %{event: [__MODULE__, :b]}]
    ids = Handler.attach(ctx.key, ctx.name, specs)

    configs =
      for id <- ids,
          %{id: ^id, config: config} <- :telemetry.list_handlers([__MODULE__]),
          do: config

    assert configs == [{ctx.key, 0}, {ctx.key, 1}]
  end

  test "an event is queued to the sender as its spec index, measurements and extracted metadata",
       ctx do
    buffer = put_instance(ctx.key, {fn meta -> %{kept: meta.kept} end})
    Handler.attach(ctx.key, ctx.name, [%{event: [__MODULE__, :queued]}])

    :telemetry.execute([__MODULE__, :queued], %{n: 3}, %{kept: "x", dropped: "y"})

    assert [{0, %{n: 3}, %{kept: "x"}}] = Buffer.take(buffer, 10)
  end

  test "an extractor that cannot read the metadata drops the event, counted by reason; the handler stays",
       ctx do
    extract = fn
      %{conn: conn} -> %{status: conn.status}
      %{other: value} -> %{n: value + 1}
      _ -> raise "bad metadata"
    end

    buffer = put_instance(ctx.key, {extract})
    Handler.attach(ctx.key, ctx.name, [%{event: [__MODULE__, :bad]}])

    :telemetry.execute([__MODULE__, :bad], %{n: 1}, %{conn: %{}})
    :telemetry.execute([__MODULE__, :bad], %{n: 1}, %{other: "not a number"})
    :telemetry.execute([__MODULE__, :bad], %{n: 1}, %{})

    assert %{
             dropped_missing_key: 1,
             dropped_unexpected_type: 1,
             dropped_extractor_failed: 1,
             queued: 0
           } = Buffer.stats(buffer)

    assert [_] = :telemetry.list_handlers([__MODULE__, :bad])
  end

  test "an event reaching a handler whose instance entry is gone is ignored, not raised", ctx do
    Handler.attach(ctx.key, ctx.name, [%{event: [__MODULE__, :gone]}])

    assert :ok = :telemetry.execute([__MODULE__, :gone], %{n: 1}, %{})
    assert [_] = :telemetry.list_handlers([__MODULE__, :gone])
  end
end
