//! Plugin volumes as the rest of myvol sees them: [`Plugins`] is the store's
//! [`ExternalDriver`] (create and remove through the plugin), and the per-user mount and
//! unmount that [`super::attach`] and [`super::reconcile`] use.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::plugin::{PluginError, PluginVolume, Registry, Timeouts, VolumePlugin};
use crate::store::{ExternalDriver, Volume};

/// The plugins this process can reach (Docker's discovery directories, or
/// `MYVOL_PLUGIN_PATH`).
#[derive(Debug)]
pub struct Plugins {
    registry: Registry,
}

impl Plugins {
    pub fn from_env() -> Plugins {
        Plugins { registry: Registry::from_env() }
    }

    pub fn new(registry: Registry) -> Plugins {
        Plugins { registry }
    }

    /// Find and activate plugin `driver`, in Docker's words when that fails.
    pub fn activate(&self, driver: &str) -> Result<VolumePlugin, String> {
        VolumePlugin::activate(&self.registry, driver).map_err(|e| lookup_error(driver, &e))
    }

    /// Activate with short timeouts, for work that must not hold up an unrelated command
    /// (cleaning up after a dead user, listing).
    pub fn activate_quick(&self, driver: &str) -> Result<VolumePlugin, String> {
        VolumePlugin::activate_with(&self.registry, driver, Timeouts::all(Duration::from_secs(3)))
            .map_err(|e| lookup_error(driver, &e))
    }
}

/// Docker's `error looking up volume plugin NAME: …`.
fn lookup_error(driver: &str, e: &PluginError) -> String {
    format!("error looking up volume plugin {driver}: {e}")
}

impl ExternalDriver for Plugins {
    /// Docker's store asks the driver's Get first and adopts a volume the plugin already has.
    fn create(&self, driver: &str, name: &str, options: Option<&BTreeMap<String, String>>) -> Result<String, String> {
        let p = self.activate(driver)?;
        if p.get(name).is_err() {
            p.create(name, options).map_err(|e| e.to_string())?;
        }
        Ok(p.scope())
    }

    fn remove(&self, driver: &str, name: &str) -> Result<(), String> {
        let p = self.activate(driver)?;
        p.remove(name).map_err(|e| e.to_string())
    }

    fn find(&self, driver: &str) -> Result<(), String> {
        self.registry.find(driver).map(|_| ()).map_err(|e| lookup_error(driver, &e))
    }
}

/// What `volume inspect` shows of a plugin volume: the plugin's mountpoint, creation time
/// and status (from Get). The store's record is kept where the plugin says nothing.
pub fn describe(plugins: &Plugins, v: &mut Volume) -> Result<Option<Map<String, Value>>, String> {
    let p = plugins.activate_quick(&v.driver)?;
    let got = p.get(&v.name).map_err(|e| e.to_string())?;
    Ok(apply(v, got))
}

fn apply(v: &mut Volume, got: PluginVolume) -> Option<Map<String, Value>> {
    v.mountpoint = got.mountpoint.into();
    if let Some(c) = got.created_at {
        v.created_at = c;
    }
    got.status
}

/// Fill in the mountpoints of plugin volumes from each plugin's List (one call per driver;
/// a plugin that does not answer leaves its volumes' mountpoints empty).
pub fn fill_mountpoints(plugins: &Plugins, vols: &mut [Volume]) {
    let mut drivers: Vec<String> = vols.iter().filter(|v| v.driver != super::LOCAL).map(|v| v.driver.clone()).collect();
    drivers.sort();
    drivers.dedup();
    for d in drivers {
        let listed = plugins.activate_quick(&d).ok().and_then(|p| p.list().ok()).unwrap_or_default();
        for v in vols.iter_mut().filter(|v| v.driver == d) {
            v.mountpoint =
                listed.iter().find(|l| l.name == v.name).map(|l| l.mountpoint.clone()).unwrap_or_default().into();
        }
    }
}
