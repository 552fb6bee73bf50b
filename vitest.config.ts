import { defineConfig } from 'vitest/config';

// Integration tests start real servers (docker-registry, nginx, RabbitMQ clients); two cores means
// two files at a time at most, and generous timeouts for fixture generation.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
