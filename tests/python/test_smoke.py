"""Placeholder until the cluster binary exists: checks the virtualenv has what the suite needs."""


def test_kafka_python_is_installed():
    import kafka  # noqa: F401
    import msgpack  # noqa: F401
