import { describe, expect, it } from 'vitest'
import path from 'node:path'
import { defaultConfigDir, profilesFilePath } from '../../../src/main/profiles/config-dir'

describe('defaultConfigDir', () => {
  it('Linux: ~/.config/Aether Remote', () => {
    expect(defaultConfigDir({}, 'linux', '/home/ann')).toBe('/home/ann/.config/Aether Remote')
  })

  it('Linux: honours XDG_CONFIG_HOME, ignoring an empty one', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ann')).toBe('/xdg/Aether Remote')
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '' }, 'linux', '/home/ann')).toBe('/home/ann/.config/Aether Remote')
  })

  it('other Unix follows the Linux rule', () => {
    expect(defaultConfigDir({}, 'freebsd', '/home/ann')).toBe('/home/ann/.config/Aether Remote')
  })

  it('macOS: ~/Library/Application Support/Aether Remote, and XDG does not apply', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/xdg' }, 'darwin', '/Users/ann')).toBe(
      '/Users/ann/Library/Application Support/Aether Remote'
    )
  })

  it('Windows: %APPDATA%\\Aether Remote, or the Roaming folder when APPDATA is unset', () => {
    expect(defaultConfigDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Aether Remote'
    )
    expect(defaultConfigDir({}, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming\\Aether Remote')
  })

  it('AETHER_CONFIG_DIR overrides every platform', () => {
    expect(defaultConfigDir({ AETHER_CONFIG_DIR: '/tmp/aether', XDG_CONFIG_HOME: '/xdg' }, 'linux', '/h')).toBe('/tmp/aether')
    expect(defaultConfigDir({ AETHER_CONFIG_DIR: '/tmp/aether' }, 'darwin', '/h')).toBe('/tmp/aether')
    expect(defaultConfigDir({ AETHER_CONFIG_DIR: 'D:\\cfg', APPDATA: 'C:\\x' }, 'win32', 'C:\\h')).toBe('D:\\cfg')
  })

  it('resolves a relative AETHER_CONFIG_DIR and ignores a blank one', () => {
    expect(defaultConfigDir({ AETHER_CONFIG_DIR: 'rel/cfg' }, 'linux', '/h')).toBe(path.resolve('rel/cfg'))
    expect(defaultConfigDir({ AETHER_CONFIG_DIR: '  ' }, 'linux', '/h')).toBe('/h/.config/Aether Remote')
  })

  it('defaults to the running process environment', () => {
    expect(typeof defaultConfigDir()).toBe('string')
  })
})

describe('profilesFilePath', () => {
  it('is <dir>/profiles.json', () => {
    expect(profilesFilePath('/cfg')).toBe(path.join('/cfg', 'profiles.json'))
  })
})
