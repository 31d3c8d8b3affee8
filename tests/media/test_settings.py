"""The storage settings: what TENON_STORAGE_URL may be, the S3 settings that go together,
and the public API URL that a deployed local store needs."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from app.assembly import build_media_store
from app.core.settings import AppSettings, Settings, SettingsError, StorageSettings, load_settings
from app.media.local import LocalMediaStore
from app.media.s3 import S3MediaStore
from tests.support.cli import DEPLOYED


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no `.env`) and an environment without Tenon settings."""
    for name in os.environ:
        if name.startswith("TENON_") or name in ("DEV_AUTH_BYPASS", "DEBUG_PERF"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems_with(monkeypatch: pytest.MonkeyPatch, **variables: str) -> list[str]:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return caught.value.problems


@pytest.mark.parametrize(
    "url",
    ["http://bucket", "s3://", "s3:///recordings", "s3://Bad_Bucket", "s3://b", "bucket"],
)
def test_a_storage_url_that_is_not_s3_bucket_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    assert problems_with(monkeypatch, TENON_STORAGE_URL=url) == [
        f"TENON_STORAGE_URL: expected s3://bucket or s3://bucket/key-prefix (got {url!r})"
    ]


def test_a_key_prefix_with_odd_characters_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [problem] = problems_with(monkeypatch, TENON_STORAGE_URL="s3://tenon/a/../b")
    assert problem.startswith("TENON_STORAGE_URL: the key prefix may hold")


def test_the_bucket_and_the_prefix_come_from_the_url() -> None:
    storage = StorageSettings(_env_file=None, url="s3://tenon-media/eu/prod/")
    assert storage.bucket == "tenon-media"
    assert storage.key_prefix == "eu/prod/"
    assert StorageSettings(_env_file=None, url="s3://tenon-media").key_prefix == ""


def test_an_endpoint_needs_the_key_pair(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems_with(
        monkeypatch,
        TENON_STORAGE_URL="s3://tenon-media",
        TENON_STORAGE_ENDPOINT_URL="http://minio:9000",
    ) == [
        "TENON_STORAGE_ACCESS_KEY_ID and TENON_STORAGE_SECRET_ACCESS_KEY are required with "
        "TENON_STORAGE_ENDPOINT_URL"
    ]


def test_a_key_without_its_secret_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert problems_with(
        monkeypatch, TENON_STORAGE_URL="s3://tenon-media", TENON_STORAGE_ACCESS_KEY_ID="AKIA1"
    ) == ["TENON_STORAGE_ACCESS_KEY_ID and TENON_STORAGE_SECRET_ACCESS_KEY go together"]


def test_aws_s3_may_take_credentials_from_the_sdk_chain(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENON_STORAGE_URL", "s3://tenon-media")
    settings = load_settings()
    assert settings.storage.access_key_id is None
    assert isinstance(build_media_store(settings), S3MediaStore)


def test_s3_settings_without_a_storage_url_are_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = problems_with(
        monkeypatch,
        TENON_STORAGE_ENDPOINT_URL="http://minio:9000",
        TENON_STORAGE_SECRET_ACCESS_KEY="hunter2-secret",
    )
    assert [problem.split(" is set")[0] for problem in problems] == [
        "TENON_STORAGE_ENDPOINT_URL",
        "TENON_STORAGE_SECRET_ACCESS_KEY",
    ]
    assert not any("hunter2" in problem for problem in problems)


def test_an_endpoint_must_be_an_http_url(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [problem] = problems_with(
        monkeypatch,
        TENON_STORAGE_URL="s3://tenon-media",
        TENON_STORAGE_ENDPOINT_URL="minio:9000",
        TENON_STORAGE_ACCESS_KEY_ID="k",
        TENON_STORAGE_SECRET_ACCESS_KEY="s",
    )
    assert problem.startswith("TENON_STORAGE_ENDPOINT_URL: expected an absolute http")


def test_the_local_store_is_the_default_under_the_data_dir(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENON_DATA_DIR", str(workdir / "data"))
    store = build_media_store(load_settings())
    assert isinstance(store, LocalMediaStore)
    # Nothing is written before the first upload.
    assert not (workdir / "data").exists()


@pytest.mark.parametrize("env", ["staging", "production"])
def test_a_deployed_local_store_needs_the_public_api_url(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    deployed = {name: value for name, value in DEPLOYED.items() if name != "TENON_PUBLIC_API_URL"}
    assert problems_with(monkeypatch, TENON_ENV=env, **deployed) == [
        "TENON_PUBLIC_API_URL (the API's address as browsers reach it) is required with the "
        f"local media store when TENON_ENV={env}"
    ]
    # With a bucket, the signed URLs are the bucket's.
    monkeypatch.setenv("TENON_STORAGE_URL", "s3://tenon-media")
    assert load_settings().app.env == env
    monkeypatch.delenv("TENON_STORAGE_URL")
    monkeypatch.setenv("TENON_PUBLIC_API_URL", "https://api.example.com/")
    assert load_settings().app.public_api_url == "https://api.example.com"


@pytest.mark.parametrize("url", ["api.example.com", "ftp://api.example.com", "https://"])
def test_the_public_api_url_must_be_an_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        AppSettings(_env_file=None, public_api_url=url)


async def test_the_local_stores_urls_are_absolute_on_the_public_api_url(tmp_path: Path) -> None:
    settings = Settings(
        app=AppSettings(_env_file=None, public_api_url="https://api.example.com", api_prefix="v1"),
        storage=StorageSettings(_env_file=None, local_dir=tmp_path),
    )
    store = build_media_store(settings)
    put = await store.presign_upload(
        "a/b.webm", content_type="video/webm", size=1, expires_in=timedelta(minutes=1)
    )
    get = await store.presign_download(
        "a/b.webm", expires_in=timedelta(minutes=1), content_type="video/webm", filename="b.webm"
    )
    assert put.url.startswith("https://api.example.com/v1/media/uploads/")
    assert get.url.startswith("https://api.example.com/v1/media/")
