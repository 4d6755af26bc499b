from elasticjob_cloud.registry.zkserver import ZooKeeperServer, four_letter_word


def test_session_server_answers_ruok(zk_server):
    assert four_letter_word(zk_server.host, zk_server.port, b"ruok") == b"imok"


def test_private_server_starts_and_stops_cleanly(tmp_path):
    server = ZooKeeperServer(data_dir=str(tmp_path / "zk"))
    with server:
        assert server.running
        assert b"Mode: standalone" in four_letter_word(server.host, server.port, b"srvr")
    assert not server.running
