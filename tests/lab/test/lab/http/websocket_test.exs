defmodule Lab.Http.WebSocketTest do
  use ExUnit.Case, async: true

  alias Lab.Http.WebSocket

  test "the accept key of RFC 6455's example" do
    assert WebSocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
  end

  test "masked client frames and unmasked server frames round-trip" do
    for payload <- ["", "heartbeat", String.duplicate("x", 300)] do
      assert {:ok, :text, ^payload, "tail"} =
               WebSocket.decode(WebSocket.encode(:text, payload, <<1, 2, 3, 4>>) <> "tail")

      assert {:ok, :text, ^payload, ""} = WebSocket.decode(WebSocket.encode(:text, payload))
    end
  end

  test "partial frames ask for more; unknown opcodes and 64-bit lengths are errors" do
    frame = WebSocket.encode(:text, "heartbeat", <<9, 9, 9, 9>>)
    assert WebSocket.decode(binary_part(frame, 0, byte_size(frame) - 1)) == :more
    assert WebSocket.decode(<<0x81>>) == :more
    assert WebSocket.decode(<<0x83, 0>>) == {:error, {:unsupported_opcode, 3}}
    assert WebSocket.decode(<<0x81, 127, 0::64>>) == {:error, :frame_too_large}
  end
end
