"""qrun export without its optional extra: a plain message, exit 1, and nothing half done."""


def test_export_without_mlflow_says_which_extra_to_install(field_runs, qrun, monkeypatch):
    _, _, single = field_runs
    monkeypatch.setitem(__import__("sys").modules, "mlflow", None)  # as if qrun[mlflow] were not installed
    monkeypatch.setitem(__import__("sys").modules, "mlflow.tracking", None)
    done = qrun("export", "mlflow", single)
    assert (done.code, done.out, done.err) == (
        1,
        "",
        "qrun: qrun export mlflow needs MLflow: pip install 'qrun[mlflow]'\n",
    )


def test_export_of_a_folder_without_runs_is_a_usage_error(qrun, tmp_path):
    done = qrun("export", "mlflow", tmp_path)
    assert (done.code, done.err) == (2, f"qrun: nothing to export: {tmp_path} holds no qrun run folders\n")
