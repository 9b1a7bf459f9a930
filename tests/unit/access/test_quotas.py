"""Quotas are off by default; when set, a submit over one says which limit and how to free it."""

import pytest

from tlcore.access import ADMIN, MEMBER, QuotaExceeded, User, check_quota, current_quotas

BOB = User("bob@example.com", role=MEMBER)


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("TLSTUDIO_QUOTA_JOBS", raising=False)
    monkeypatch.delenv("TLSTUDIO_QUOTA_DISK_GB", raising=False)
    assert not current_quotas().enabled
    check_quota(BOB, 100, 10**12)


def test_job_and_disk_limits_name_themselves(monkeypatch):
    monkeypatch.setenv("TLSTUDIO_QUOTA_JOBS", "2")
    monkeypatch.setenv("TLSTUDIO_QUOTA_DISK_GB", "0.001")
    check_quota(BOB, 1, 10)
    with pytest.raises(QuotaExceeded, match="Job quota reached.*limit is 2.*cancel one"):
        check_quota(BOB, 2, 10)
    with pytest.raises(QuotaExceeded, match="Disk quota reached.*Delete runs"):
        check_quota(BOB, 0, 2_000_000)
    check_quota(User("ada", role=ADMIN), 5, 10**12)


def test_a_bad_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TLSTUDIO_QUOTA_JOBS", "two")
    with pytest.raises(ValueError, match="TLSTUDIO_QUOTA_JOBS='two' is not a number"):
        current_quotas()
