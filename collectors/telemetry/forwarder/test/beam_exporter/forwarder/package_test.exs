defmodule BeamExporter.Forwarder.PackageTest do
  use ExUnit.Case, async: true

  # What a Hex release or a sparse git dependency ships must be there, with its license.
  test "every file the package lists exists, and the license is Apache-2.0" do
    package = Mix.Project.config()[:package]
    assert package[:licenses] == ["Apache-2.0"]

    for path <- package[:files] do
      assert File.exists?(path), "the package lists #{path}, which does not exist"
    end

    assert File.read!("LICENSE") =~ "Apache License"
    assert File.read!("LICENSE") =~ "Version 2.0, January 2004"
  end
end
