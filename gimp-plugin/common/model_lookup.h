#pragma once
// Where the plug-in finds its models. GIMP front ends pass in what only GIMP knows (the user's profile
// folder); everything else is decided here.
#include <string>
#include <vector>

#include "lowlight/models.h"

namespace lowlight::plugin {

// Lookup and listing over a list of folders are core's (lowlight/models.h); the plug-in adds only its folders.
using lowlight::executable_dir;
using lowlight::find_model;
using lowlight::list_models;
using lowlight::ModelEntry;

// The data folder of the package the plug-in folder belongs to: <prefix>/share/lowlight for a plug-in
// installed under <prefix>/lib/... (GIMP's system plug-in folders: lib/gimp/2.0/plug-ins/... and, on Debian,
// lib/<multiarch>/gimp/3.0/plug-ins/...). Found from the path at run time, so no prefix is compiled in; empty
// for a plug-in in a user profile or a build tree.
std::string installed_data_dir(const std::string& plugin_dir);

// Folders searched for <name>.safetensors, in order: the entries of $LOWLIGHT_MODEL_PATH, the plug-in's
// own folder, the package's models (installed_data_dir()/weights), and the user's GIMP profile
// (<profile>/lowlight). Empty arguments are left out.
std::vector<std::string> model_dirs(const std::string& plugin_dir, const std::string& profile_dir);
// model_dirs() of this plug-in binary's folder and the profile folder GIMP names (gimp_directory(); null: none),
// as both GIMP front ends search.
std::vector<std::string> plugin_model_dirs(const char* gimp_profile_dir);

// The folder holding the plug-in's help pages (<dir>/en/gimp-help.xml, GIMP's help-domain layout): the
// plug-in folder's help/ (user install) or installed_data_dir()/help; empty when neither has them.
std::string help_dir(const std::string& plugin_dir);

// What a model chooser offers: the models in `dirs`, then `current` when it is a path or a name not found
// (so an earlier setting stays visible); `active` indexes `current`; `tooltip` names the folders searched.
struct ModelChoices {
  std::vector<std::string> names;
  int active = 0;
  std::string tooltip;
};
ModelChoices model_choices(const std::vector<std::string>& dirs, const std::string& current);

}  // namespace lowlight::plugin
