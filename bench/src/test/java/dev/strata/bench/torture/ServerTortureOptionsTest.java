package dev.strata.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServerTortureOptionsTest {
  @Test
  void sqliteIsTheDefaultWithOneInstanceAndTheFaultsItAlwaysHad() {
    ServerTortureOptions o = ServerTortureOptions.parse("--server", "--seed", "7");
    assertThat(o.instances()).isEqualTo(1);
    assertThat(o.metadata()).isEqualTo("sqlite");
    assertThat(o.faults()).doesNotContain(ServerFault.KILL9_POSTGRES).hasSize(ServerFault.values().length - 1);
    assertThat(o.reproduce()).isEqualTo("bin/torture --server --seed 7 --duration 3m");
  }

  @Test
  void postgresAddsItsFaultAndReproducesWithItsFlags() {
    ServerTortureOptions o = ServerTortureOptions.parse("--server", "--seed", "7", "--instances", "2", "--metadata",
        "postgres");
    assertThat(o.faults()).contains(ServerFault.KILL9_POSTGRES).hasSize(ServerFault.values().length);
    assertThat(o.reproduce()).isEqualTo("bin/torture --server --seed 7 --duration 3m --instances 2 --metadata "
        + "postgres");
    assertThat(ServerTortureOptions.parse(o.reproduce().substring("bin/torture ".length()).split(" ")))
        .isEqualTo(o);
  }

  @Test
  void severalInstancesOrThePostgresFaultNeedPostgres() {
    assertThatThrownBy(() -> ServerTortureOptions.parse("--server", "--instances", "2"))
        .hasMessageContaining("--metadata postgres");
    assertThatThrownBy(() -> ServerTortureOptions.parse("--server", "--faults", "kill-9-postgres"))
        .hasMessageContaining("needs --metadata postgres");
    assertThatThrownBy(() -> ServerTortureOptions.parse("--server", "--metadata", "mysql"))
        .hasMessageContaining("sqlite or postgres");
  }
}
