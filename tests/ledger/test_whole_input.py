def test_a_file_changed_while_it_is_split_fails_the_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_cascade.ledger import LedgerInputChanged, _shards

    path = tmp_path / "all.csv"
    path.write_text("phone\n79000000001\n79000000002\n")
    checked = _shards.check_recipients_file

    def check_then_append(url: str, encoding: str | None = None) -> int:
        out = checked(url, encoding)
        with path.open("a") as f:
            f.write("79000000003\n")
        return out

    monkeypatch.setattr(_shards, "check_recipients_file", check_then_append)
    with pytest.raises(LedgerInputChanged, match=r"all\.csv changed while it was being checked"):
        split_recipients_file(str(path), 2, str(tmp_path / "shards"))
