import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, stateDir } from '../../src/cli/options';

describe('where the CLI keeps its local state', () => {
  it('on Windows: state and locks in %LOCALAPPDATA%\\glacier-backup, settings in %APPDATA%\\glacier-backup', () => {
    const env = { LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local', APPDATA: 'C:\\Users\\me\\AppData\\Roaming' };
    assert.equal(stateDir(env, 'win32'), 'C:\\Users\\me\\AppData\\Local\\glacier-backup');
    assert.equal(configDir(env, 'win32'), 'C:\\Users\\me\\AppData\\Roaming\\glacier-backup');
    assert.equal(stateDir({ USERPROFILE: 'D:\\home' }, 'win32'), 'D:\\home\\AppData\\Local\\glacier-backup');
  });

  it('elsewhere: the XDG folders; an explicit folder wins everywhere', () => {
    assert.equal(stateDir({ XDG_STATE_HOME: '/s' }, 'linux'), '/s/glacier-backup');
    assert.equal(configDir({ XDG_CONFIG_HOME: '/c' }, 'darwin'), '/c/glacier-backup');
    assert.equal(stateDir({ GLACIER_BACKUP_STATE_DIR: 'X:\\state', LOCALAPPDATA: 'C:\\l' }, 'win32'), 'X:\\state');
  });
});
