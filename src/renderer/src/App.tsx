/** Placeholder shell; the remote-config and session views arrive with the desktop-app work. */
export function App() {
  const version = typeof window.api?.app.version === 'function' ? window.api.app.version() : 'dev'
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Aether Remote</h1>
      <p>Version {version}. Connect to OpenClaw gateways, including those behind Cloudflare Access.</p>
    </main>
  )
}
