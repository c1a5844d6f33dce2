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

  test "a raising extractor is counted as a handler error and the handler stays attached", ctx do
    buffer = put_instance(ctx.key, {fn _meta -> raise "bad metadata" end})
    Handler.attach(ctx.key, ctx.name, [%{event: [__MODULE__, :bad]}])

    :telemetry.execute([__MODULE__, :bad], %{n: 1}, %{})

    assert %{handler_errors: 1, queued: 0} = Buffer.stats(buffer)
    assert [_] = :telemetry.list_handlers([__MODULE__, :bad])
  end

  test "an event reaching a handler whose instance entry is gone is ignored, not raised", ctx do
    Handler.attach(ctx.key, ctx.name, [%{event: [__MODULE__, :gone]}])

    assert :ok = :telemetry.execute([__MODULE__, :gone], %{n: 1}, %{})
    assert [_] = :telemetry.list_handlers([__MODULE__, :gone])
  end
end
