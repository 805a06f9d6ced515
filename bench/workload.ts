// The benchmarks' stack (issue 9): 3 busybox services, one healthchecked with a 10 s interval.
export const COMPOSE = `services:
  web:
    image: localhost/busybox:lab
    init: true
    command: ["sh", "-c", "echo ok > /tmp/i; exec httpd -f -p 80 -h /tmp"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/i"]
      interval: 10s
      timeout: 5s
      retries: 3
  worker:
    image: localhost/busybox:lab
    init: true
    command: ["sleep", "1000000"]
  cron:
    image: localhost/busybox:lab
    init: true
    command: ["sleep", "1000000"]
`;
