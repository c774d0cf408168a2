// Redirects this process's stderr (fd 2) to /dev/null and back. The CLI wraps the loading of TensorFlow's
// native library in it: that library logs its start-up lines from C++ before it reads TF_CPP_MIN_LOG_LEVEL,
// so no setting can stop them, and Node has no dup2 of its own.
#include <fcntl.h>
#include <node_api.h>
#include <unistd.h>

static napi_value Silence(napi_env env, napi_callback_info) {
  int saved = dup(2);
  int null_fd = open("/dev/null", O_WRONLY);
  if (saved >= 0 && null_fd >= 0) dup2(null_fd, 2);
  if (null_fd >= 0) close(null_fd);
  napi_value out;
  napi_create_int32(env, saved, &out);
  return out;
}

static napi_value Restore(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int saved = -1;
  if (argc == 1) napi_get_value_int32(env, argv[0], &saved);
  if (saved >= 0) {
    dup2(saved, 2);
    close(saved);
  }
  return nullptr;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"silence", nullptr, Silence, nullptr, nullptr, nullptr, napi_default, nullptr},
    {"restore", nullptr, Restore, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
