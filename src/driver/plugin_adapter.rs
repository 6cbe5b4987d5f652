//! Plugin volumes as the rest of myvol sees them: [`Plugins`] (the plugins this process can
//! reach, found once per command) is the store's [`ExternalDriver`] (create and remove
//! through the plugin), and activates the plugin that [`super::attach`], [`super::reconcile`],
//! `volume inspect` and `volume ls` talk to.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};
use thiserror::Error;

use super::plugin::{PluginError, PluginVolume, Registry, Timeouts, VolumePlugin};
use crate::name::VolumeName;
use crate::store::{BoxedError, ExternalDriver, Volume};

/// What went wrong with a plugin volume, in Docker's words.
#[derive(Debug, Error)]
pub enum PluginDriverError {
    /// The plugin could not be found or activated.
    #[error("error looking up volume plugin {}: {source}", crate::text::echo(driver))]
    Lookup { driver: String, source: Box<PluginError> },
    /// The plugin refused or failed a call (its own message, as Docker shows it).
    #[error(transparent)]
    Call(Box<PluginError>),
    /// The plugin mounted the volume, but the lease could not record it (the mount is undone).
    #[error("cannot record the mount in the lease")]
    RecordMount(#[source] std::io::Error),
}

impl From<PluginError> for PluginDriverError {
    fn from(e: PluginError) -> Self {
        PluginDriverError::Call(Box::new(e))
    }
}

/// The plugins this process can reach (Docker's discovery directories, or
/// `MYVOL_PLUGIN_PATH`).
#[derive(Debug)]
pub struct Plugins {
    registry: Registry,
}

impl Plugins {
    /// The plugins the environment points to (read once, at the command line's edge).
    pub fn from_env() -> Plugins {
        Plugins { registry: Registry::from_env() }
    }

    pub fn new(registry: Registry) -> Plugins {
        Plugins { registry }
    }

    /// Find and activate plugin `driver`, in Docker's words when that fails.
    pub fn activate(&self, driver: &str) -> Result<VolumePlugin, PluginDriverError> {
        VolumePlugin::activate(&self.registry, driver).map_err(|e| lookup_error(driver, e))
    }

    /// Activate with short timeouts, for work that must not hold up an unrelated command
    /// (cleaning up after a dead user, listing).
    pub fn activate_quick(&self, driver: &str) -> Result<VolumePlugin, PluginDriverError> {
        VolumePlugin::activate_with(&self.registry, driver, Timeouts::all(Duration::from_secs(3)))
            .map_err(|e| lookup_error(driver, e))
    }
}

/// Docker's `error looking up volume plugin NAME: …`.
fn lookup_error(driver: &str, source: PluginError) -> PluginDriverError {
    PluginDriverError::Lookup { driver: driver.to_owned(), source: Box::new(source) }
}

impl ExternalDriver for Plugins {
    /// Docker's store asks the driver's Get first and adopts a volume the plugin already has.
    fn create(
        &self,
        driver: &str,
        name: &VolumeName,
        options: Option<&BTreeMap<String, String>>,
    ) -> Result<String, BoxedError> {
        let p = self.activate(driver)?;
        if p.get(name.as_str()).is_err() {
            p.create(name.as_str(), options).map_err(PluginDriverError::from)?;
        }
        Ok(p.scope())
    }

    fn remove(&self, driver: &str, name: &VolumeName) -> Result<(), BoxedError> {
        let p = self.activate(driver)?;
        Ok(p.remove(name.as_str()).map_err(PluginDriverError::from)?)
    }

    fn find(&self, driver: &str) -> Result<(), BoxedError> {
        self.registry.find(driver).map(|_| ()).map_err(|e| lookup_error(driver, e).into())
    }
}

/// What `volume inspect` shows of a plugin volume: the plugin's mountpoint, creation time
/// and status (from Get). The store's record is kept where the plugin says nothing.
pub fn describe(plugins: &Plugins, v: &mut Volume) -> Result<Option<Map<String, Value>>, PluginDriverError> {
    let p = plugins.activate_quick(&v.driver)?;
    let got = p.get(v.name.as_str())?;
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
            v.mountpoint = listed
                .iter()
                .find(|l| l.name == v.name.as_str())
                .map(|l| l.mountpoint.clone())
                .unwrap_or_default()
                .into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_dockers() {
        let missing = || PluginError::NotFound { name: "nope".into() };
        let e = lookup_error("nope", missing());
        assert_eq!(e.to_string(), "error looking up volume plugin nope: plugin \"nope\" not found");
        let call = PluginDriverError::from(PluginError::Remote {
            plugin: "p".into(),
            method: "VolumeDriver.Create",
            err: "the plugin's own words".into(),
        });
        assert_eq!(call.to_string(), "the plugin's own words");
        assert_eq!(
            PluginDriverError::RecordMount(std::io::Error::other("x")).to_string(),
            "cannot record the mount in the lease"
        );
    }

    #[test]
    fn a_missing_plugin_is_not_found_without_asking_anything() {
        let dir = tempfile::tempdir().unwrap();
        let plugins = Plugins::new(Registry::new(vec![dir.path().to_owned()], vec![dir.path().to_owned()]));
        let e = plugins.find("nope").unwrap_err();
        assert_eq!(e.to_string(), "error looking up volume plugin nope: plugin \"nope\" not found");
        // The store sees the typed error behind its box.
        assert!(matches!(e.downcast_ref::<PluginDriverError>(), Some(PluginDriverError::Lookup { .. })));
        let e = plugins.create("nope", &VolumeName::parse("v1").unwrap(), None).unwrap_err();
        assert_eq!(e.to_string(), "error looking up volume plugin nope: plugin \"nope\" not found");
    }
}
