/** Test set-up shared by the renderer tests: a fresh fake API and fresh stores per test. */
import { setApi } from '../../../src/renderer/src/lib/api'
import { useAccess } from '../../../src/renderer/src/stores/access-store'
import { useAppInfo } from '../../../src/renderer/src/stores/app-info-store'
import { useConnections } from '../../../src/renderer/src/stores/connections-store'
import { useDoctor } from '../../../src/renderer/src/stores/doctor-store'
import { useProfiles } from '../../../src/renderer/src/stores/profiles-store'
import { useSession } from '../../../src/renderer/src/stores/session-store'
import { useUi } from '../../../src/renderer/src/stores/ui-store'
import { FakeApi } from './fake-api'

export function freshApp(): FakeApi {
  for (const store of [useAccess, useAppInfo, useConnections, useDoctor, useProfiles, useSession, useUi]) {
    ;(store as { setState(s: unknown, replace: true): void; getInitialState(): unknown }).setState(store.getInitialState(), true)
  }
  const fake = new FakeApi()
  setApi(fake.api)
  return fake
}

/** Everything the stores hold, as one string (to prove a secret is not in there). */
export function allStoreState(): string {
  return JSON.stringify([useAccess.getState(), useAppInfo.getState(), useConnections.getState(), useDoctor.getState(), useProfiles.getState(), useSession.getState(), useUi.getState()])
}
