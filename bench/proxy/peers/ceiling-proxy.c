/*
 * The ceiling: the least work any proxy can do for the benchmark's load, as a yardstick for
 * what the machine allows (bench/proxy only; never part of egress). One thread, epoll,
 * non-blocking sockets; no policy, no DNS (every name is 127.0.0.1), no logging, no limits,
 * no timeouts. It understands exactly what the benchmark sends:
 *   - CONNECT host:port -> dial 127.0.0.1:port, answer 200, relay bytes both ways;
 *   - GET http://host:port/path (absolute form, no body) -> the same request in origin form on
 *     one upstream connection per client connection; responses are relayed unparsed.
 * Usage: ceiling-proxy PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define CHUNK 65536

struct conn;
struct side {
  struct conn *conn;
  int fd;
  char *pending; /* bytes not yet written to this side */
  size_t pending_len;
  int read_eof;
};
struct conn {
  struct side client, upstream;
  int connecting; /* upstream connect in progress */
  int forward;    /* plain-HTTP forwarding: client bytes are request heads to rewrite */
  int tunnel;     /* CONNECT: answered 200, relaying */
  char head[HEAD_MAX];
  size_t head_len;
  int dead;
  struct conn *next_dead;
};

static int ep;
static char chunk[CHUNK];
static struct conn *dead_list;

static void watch(struct side *s, int op, unsigned events) {
  struct epoll_event e = {.events = events, .data.ptr = s};
  epoll_ctl(ep, op, s->fd, &e);
}

static void kill_conn(struct conn *c) {
  if (c->dead) return;
  c->dead = 1;
  if (c->client.fd >= 0) close(c->client.fd);
  if (c->upstream.fd >= 0) close(c->upstream.fd);
  c->next_dead = dead_list;
  dead_list = c;
}

static struct side *peer_of(struct side *s) {
  return s == &s->conn->client ? &s->conn->upstream : &s->conn->client;
}

/* What each side should be watched for: read unless its peer has unwritten bytes. */
static void rewatch(struct conn *c) {
  struct side *sides[2] = {&c->client, &c->upstream};
  for (int i = 0; i < 2; i++) {
    struct side *s = sides[i];
    if (s->fd < 0) continue;
    if (s == &c->upstream && c->connecting) continue;
    unsigned ev = 0;
    if (!s->read_eof && peer_of(s)->pending_len == 0) ev |= EPOLLIN;
    if (s->pending_len) ev |= EPOLLOUT;
    watch(s, EPOLL_CTL_MOD, ev);
  }
}

/* Writes to `s` what fits now; keeps the rest. Returns -1 if the socket failed. */
static int send_to(struct side *s, const char *data, size_t len) {
  if (s->pending_len == 0) {
    while (len > 0) {
      ssize_t n = write(s->fd, data, len);
      if (n < 0) {
        if (errno == EAGAIN) break;
        return -1;
      }
      data += n;
      len -= (size_t)n;
    }
  }
  if (len > 0) {
    s->pending = realloc(s->pending, s->pending_len + len);
    memcpy(s->pending + s->pending_len, data, len);
    s->pending_len += len;
  }
  return 0;
}

static int flush(struct side *s) {
  size_t done = 0;
  while (done < s->pending_len) {
    ssize_t n = write(s->fd, s->pending + done, s->pending_len - done);
    if (n < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    done += (size_t)n;
  }
  memmove(s->pending, s->pending + done, s->pending_len - done);
  s->pending_len -= done;
  return 0;
}

static int dial(struct conn *c, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  c->upstream.fd = fd;
  c->connecting = 1;
  watch(&c->upstream, EPOLL_CTL_ADD, EPOLLOUT);
  watch(&c->client, EPOLL_CTL_MOD, 0);
  return 0;
}

/* Port of an authority "host:port" (at `p`, up to a space or '/'). */
static int port_of(const char *p) {
  const char *end = p + strcspn(p, " /");
  const char *colon = memrchr(p, ':', (size_t)(end - p));
  return colon ? atoi(colon + 1) : 80;
}

/* Forwarding: turns every complete request head in c->head into origin form for upstream. */
static int rewrite_heads(struct conn *c) {
  for (;;) {
    char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
    if (!end) return c->head_len < HEAD_MAX ? 0 : -1;
    size_t len = (size_t)(end + 4 - c->head);
    char *scheme = memmem(c->head, len, " http://", 8);
    if (!scheme) return -1;
    if (c->upstream.fd < 0 && dial(c, port_of(scheme + 8)) < 0) return -1;
    char *path = memchr(scheme + 8, '/', len - (size_t)(scheme + 8 - c->head));
    if (!path) return -1;
    /* method + " " + path...end of head */
    size_t method_len = (size_t)(scheme - c->head) + 1;
    if (send_to(&c->upstream, c->head, method_len) < 0) return -1;
    if (send_to(&c->upstream, path, len - (size_t)(path - c->head)) < 0) return -1;
    memmove(c->head, c->head + len, c->head_len - len);
    c->head_len -= len;
  }
}

static void on_client_head(struct conn *c) {
  if (c->head_len >= 8 && memcmp(c->head, "CONNECT ", 8) == 0) {
    char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
    if (!end) {
      if (c->head_len >= HEAD_MAX) kill_conn(c);
      return;
    }
    size_t len = (size_t)(end + 4 - c->head);
    if (dial(c, port_of(c->head + 8)) < 0) {
      kill_conn(c);
      return;
    }
    /* Tunnel bytes sent with the head go upstream once it is connected. */
    send_to(&c->upstream, c->head + len, c->head_len - len);
    c->head_len = 0;
    c->tunnel = 1;
    return;
  }
  c->forward = 1;
  if (rewrite_heads(c) < 0) kill_conn(c);
}

static void on_connected(struct conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->upstream.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
    send_to(&c->client, bad, sizeof bad - 1);
    kill_conn(c);
    return;
  }
  c->connecting = 0;
  if (c->tunnel) {
    static const char ok[] = "HTTP/1.1 200 Connection Established\r\n\r\n";
    if (send_to(&c->client, ok, sizeof ok - 1) < 0) {
      kill_conn(c);
      return;
    }
  }
  if (c->upstream.pending_len && flush(&c->upstream) < 0) {
    kill_conn(c);
    return;
  }
  rewatch(c);
}

static void on_readable(struct side *s) {
  struct conn *c = s->conn;
  struct side *peer = peer_of(s);
  if (s == &c->client && !c->tunnel) {
    ssize_t n = read(s->fd, c->head + c->head_len, HEAD_MAX - c->head_len);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      kill_conn(c);
      return;
    }
    c->head_len += (size_t)n;
    if (c->forward) {
      if (rewrite_heads(c) < 0) kill_conn(c);
      else if (!c->connecting) rewatch(c);
    } else {
      on_client_head(c);
    }
    return;
  }
  ssize_t n = read(s->fd, chunk, CHUNK);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {
    /* One side is done: so is the exchange (the benchmark never half-closes and waits). */
    if (peer->pending_len) flush(peer);
    kill_conn(c);
    return;
  }
  if (send_to(peer, chunk, (size_t)n) < 0) {
    kill_conn(c);
    return;
  }
  if (peer->pending_len) rewatch(c);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ceiling-proxy PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(listener, (struct sockaddr *)&a, sizeof a) < 0 || listen(listener, 4096) < 0) {
    perror("ceiling-proxy: listen");
    return 1;
  }
  ep = epoll_create1(0);
  struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &le);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; i++) {
      struct side *s = events[i].data.ptr;
      if (!s) {
        for (;;) {
          int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *c = calloc(1, sizeof *c);
          c->client = (struct side){.conn = c, .fd = fd};
          c->upstream = (struct side){.conn = c, .fd = -1};
          watch(&c->client, EPOLL_CTL_ADD, EPOLLIN);
        }
        continue;
      }
      struct conn *c = s->conn;
      if (c->dead) continue;
      if (s == &c->upstream && c->connecting) {
        on_connected(c);
        continue;
      }
      if (events[i].events & EPOLLOUT) {
        if (flush(s) < 0) {
          kill_conn(c);
          continue;
        }
        if (s->pending_len == 0) rewatch(c);
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(s);
    }
    while (dead_list) {
      struct conn *c = dead_list;
      dead_list = c->next_dead;
      free(c->client.pending);
      free(c->upstream.pending);
      free(c);
    }
  }
}
