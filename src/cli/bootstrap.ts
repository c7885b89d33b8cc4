// Imported first by the CLI entry (ES modules evaluate imports in order): settings that must exist before any
// dependency loads. The SDK is pinned by package-lock.json, so its notice that future releases will need
// Node 22 is noise on every command's stderr.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
