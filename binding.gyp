{
  "variables": {
    "sanitize%": ""
  },
  "targets": [
    {
      "target_name": "muxftpd",
      "sources": [
        "native/engine/sys.cc",
        "native/engine/sys_files.cc",
        "native/engine/session.cc",
        "native/engine/transfer.cc",
        "native/engine/passive.cc",
        "native/engine/worker.cc",
        "native/engine/acceptor.cc",
        "native/engine/client_ledger.cc",
        "native/engine/engine.cc",
        "native/engine/file_jobs.cc",
        "native/engine/wire.cc",
        "native/engine/file_ops.cc",
        "native/engine/worker_files.cc",
        "native/engine/worker_control.cc",
        "native/engine/worker_data.cc",
        "native/engine/worker_transfers.cc",
        "native/engine/worker_jobs.cc",
        "native/engine/worker_linger.cc",
        "native/engine/tls_context.cc",
        "native/engine/tls_channel.cc",
        "native/engine/tls13_crypto.cc",
        "native/engine/tls13_records.cc",
        "native/engine/transfer_tls.cc",
        "native/engine/worker_tls.cc",
        "native/binding/addon.cc",
        "native/binding/codec_probe.cc",
        "native/binding/engine_wrap.cc",
        "native/binding/batch_mailbox.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-fno-exceptions", "-Wall", "-Wextra", "-O2"],
      "libraries": ["-lpthread"],
      "conditions": [
        ["sanitize=='address'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-sanitize=vptr", "-fno-omit-frame-pointer", "-O1", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }],
        ["sanitize=='thread'", {
          "cflags_cc": ["-fsanitize=thread", "-O1", "-g"],
          "ldflags": ["-fsanitize=thread"]
        }]
      ]
    },
    {
      "target_name": "ftpload",
      "type": "executable",
      "sources": [
        "native/bench/ftpload/addresses.cc",
        "native/bench/ftpload/crc32.cc",
        "native/bench/ftpload/histogram.cc",
        "native/bench/ftpload/json_writer.cc",
        "native/bench/ftpload/main.cc",
        "native/bench/ftpload/options.cc",
        "native/bench/ftpload/phases.cc",
        "native/bench/ftpload/session.cc",
        "native/bench/ftpload/stream.cc",
        "native/bench/ftpload/summary.cc",
        "native/bench/ftpload/tls.cc",
        "native/bench/ftpload/worker.cc",
        "native/bench/ftpload/worker_control.cc",
        "native/bench/ftpload/worker_data.cc",
        "native/bench/ftpload/worker_tls.cc",
        "native/engine/sys.cc",
        "native/engine/sys_files.cc"
      ],
      "include_dirs": ["."],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-fno-exceptions"],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-pthread"],
      "libraries": ["-lpthread"],
      # --tls: Debian's OpenSSL 3 (libssl-dev's headers, libssl.so.3) when
      # native/bench/openssl-probe.mjs finds it, else a build without TLS.
      # Node's own OpenSSL headers (in node's include dirs) are taken out of
      # this target: ftpload is a program of its own and links the system's.
      "variables": { "ftpload_tls": "<!(node native/bench/openssl-probe.mjs)" },
      "include_dirs!": [
        "<(node_root_dir)/include/node",
        "<(node_root_dir)/deps/openssl/config",
        "<(node_root_dir)/deps/openssl/openssl/include"
      ],
      "conditions": [
        ["ftpload_tls==1", {
          "defines": ["FTPLOAD_TLS=1"],
          "libraries": ["-lssl", "-lcrypto"]
        }]
      ]
    },
    {
      "target_name": "bare",
      "type": "executable",
      "sources": ["native/bench/bare.cc", "native/engine/sys.cc", "native/engine/sys_files.cc"],
      "include_dirs": ["."],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-fno-exceptions"],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-pthread"],
      "libraries": ["-lpthread"]
    }
  ]
}
