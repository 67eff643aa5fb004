package dev.strata.cli;

import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

/** The training run bin/strata builds its AOT cache with: it must keep working, or the launcher silently loses the cache. */
class AotTrainingTest {
  @Test
  void restoresItsGeneratedReplica() {
    assertThatCode(() -> AotTraining.main(new String[0])).doesNotThrowAnyException();
    assertThatCode(() -> AotTraining.main(new String[] {"--restore"})).doesNotThrowAnyException();
  }
}
