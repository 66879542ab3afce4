# Sluice's part in the ee11 environment; the sluice module enables it (see sluice.mod).

[description]
Sluice's part in the ee11 environment, enabled by the sluice module: deploys ${jetty.base}/webapps/sluice.war at /.

[tags]
webapp

[environment]
ee11

[depend]
ee11-deploy

[xml]
# Hands the sluice.* properties to the ee11 deployer, where webapps/sluice.xml reads them.
modules/sluice/sluice-environment.xml

[files]
webapps/
basehome:modules/sluice/sluice.xml|webapps/sluice.xml
